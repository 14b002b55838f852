#include "services/sidecar/proxy.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_set>

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "net/request_limits.hpp"

namespace maestro::sidecar {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

Result<std::pair<std::string, std::uint16_t>> parse_upstream(std::string_view address) {
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return fail("upstream '{}' must be HOST:PORT", address);
  const std::string_view port_text = address.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
    return fail("upstream '{}' has no valid port", address);
  std::string host(address.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return std::pair{host, static_cast<std::uint16_t>(port)};
}

namespace {

constexpr std::size_t kRelayChunk = 64 * 1024;

// Where a client connection is: waiting for a request's first byte, receiving its header, or forwarding.
enum class Phase { kIdle, kHeader, kForwarding };

// One client connection, its connection to the application and the thread that serves both. The watchdog
// shuts both sockets down when the deadline passes (blocking reads have no timeout of their own), or at once
// when an idle connection must go because the proxy stops or its slot is needed; it joins the thread once
// the connection is done, so that no thread outlives the proxy's io_context.
struct Connection {
  tcp::socket client;
  tcp::socket upstream;
  std::thread worker;
  std::atomic<std::int64_t> deadline_ns{0};
  std::atomic<Phase> phase{Phase::kIdle};
  std::atomic<std::int64_t> phase_since_ns{0};
  std::atomic<bool> timed_out{false};

  explicit Connection(tcp::socket socket) : client(std::move(socket)), upstream(client.get_executor()) {}

  void expire_in(std::chrono::milliseconds timeout) {
    deadline_ns = (SteadyClock::now() + timeout).time_since_epoch().count();
  }
  void enter(Phase next, std::chrono::milliseconds timeout) {
    phase = next;
    phase_since_ns = SteadyClock::now().time_since_epoch().count();
    expire_in(timeout);
  }
  // From the watchdog: unblocks the owner's blocking reads and writes, which then fail.
  void cut_upstream() {
    if (upstream.is_open()) ::shutdown(upstream.native_handle(), SHUT_RDWR);
  }
  void cut() {
    if (client.is_open()) ::shutdown(client.native_handle(), SHUT_RDWR);
    cut_upstream();
  }
};

// Streams one message (header, then body piece by piece) from `input` to `output`, as Beast's relay
// example does; `progress` runs after each piece (to move the deadline). Sets `ec` and `reading` (whether
// reading `input` failed, rather than writing `output`) on failure.
template <bool isRequest, class Progress>
void relay_body(tcp::socket& output, tcp::socket& input, beast::flat_buffer& buffer,
                http::parser<isRequest, http::buffer_body>& parser, bool header_only, Progress progress,
                beast::error_code& ec, bool& reading) {
  reading = false;
  http::serializer<isRequest, http::buffer_body, http::fields> serializer{parser.get()};
  http::write_header(output, serializer, ec);
  if (ec || header_only) return;
  std::array<char, kRelayChunk> chunk;
  do {
    if (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      http::read(input, buffer, parser, ec);
      if (ec == http::error::need_buffer) ec = {};
      reading = static_cast<bool>(ec);
      if (ec) return;
      parser.get().body().size = chunk.size() - parser.get().body().size;
      parser.get().body().data = chunk.data();
      parser.get().body().more = !parser.is_done();
    } else {
      parser.get().body().data = nullptr;
      parser.get().body().size = 0;
    }
    http::write(output, serializer, ec);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return;
    progress();
  } while (!parser.is_done() && !serializer.is_done());
}

void write_error(tcp::socket& client, int status, std::string_view message) {
  const std::string body = fmt::format(R"({{"error":"{}"}})", message);
  const auto reason = http::obsolete_reason(http::int_to_status(static_cast<unsigned>(status)));
  const std::string response = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
      status, std::string_view(reason.data(), reason.size()), body.size(), body);
  beast::error_code ignored;
  asio::write(client, asio::buffer(response), ignored);
}

// True if a kept-alive connection to the application was closed (or sent something unasked) meanwhile.
bool went_stale(tcp::socket& socket) {
  pollfd readable{socket.native_handle(), POLLIN, 0};
  return ::poll(&readable, 1, 0) != 0;
}

}  // namespace

struct Proxy::Impl {
  Impl(ProxyOptions opts, prometheus::Registry& registry)
      : options(std::move(opts)),
        requests(prometheus::BuildCounter()
                     .Name("http_requests_total")
                     .Help("Requests forwarded to the application, by status code and method")
                     .Register(registry)),
        durations(prometheus::BuildHistogram()
                      .Name("http_request_duration_seconds")
                      .Help("Time from a request's header received to its response's last byte sent")
                      .Register(registry)),
        upstream_errors(prometheus::BuildCounter()
                            .Name("maestro_sidecar_upstream_errors_total")
                            .Help("Requests the application did not answer, by what happened")
                            .Register(registry)) {
    // A client and an application socket per connection.
    options.max_connections = static_cast<int>(
        net::connection_cap(static_cast<std::size_t>(std::max(options.max_connections, 1)), 2));
  }

  void record(std::string_view method, int status, SteadyClock::time_point started) {
    const std::chrono::duration<double> took = SteadyClock::now() - started;
    const std::string method_label(net::method_label(method));
    requests.Add({{"code", std::to_string(status)}, {"method", method_label}}).Increment();
    durations.Add({{"method", method_label}}, buckets).Observe(took.count());
  }

  void accept_loop();
  // At the connection cap: cuts the longest-idle connection, else the one longest on its header; false if
  // every connection is forwarding. Called with `mutex` held.
  bool make_room();
  void serve(Connection& connection);
  // One request: false once the connection must close.
  bool forward(Connection& connection, beast::flat_buffer& client_buffer,
               beast::flat_buffer& upstream_buffer);
  void watch();

  ProxyOptions options;
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Histogram>& durations;
  prometheus::Family<prometheus::Counter>& upstream_errors;
  const prometheus::Histogram::BucketBoundaries buckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04,
      0.05,   0.075,   0.1,    0.15,  0.2,    0.3,   0.5,    0.75, 1,     2.5,  5,    10};

  asio::io_context context;
  std::optional<tcp::acceptor> acceptor;
  std::vector<tcp::endpoint> upstream_endpoints;
  std::thread accepter;
  std::thread watchdog;
  std::atomic<bool> stopping{false};
  std::mutex mutex;  // guards connections, and closing sockets against the watchdog's cut()
  std::condition_variable changed;
  std::unordered_set<std::shared_ptr<Connection>> connections;
  std::vector<std::shared_ptr<Connection>> finished;  // served; their threads are for the watchdog to join
  SteadyClock::time_point drain_deadline;
};

void Proxy::Impl::accept_loop() {
  while (!stopping) {
    beast::error_code ec;
    tcp::socket socket(context);
    acceptor->accept(socket, ec);
    if (stopping) return;
    if (ec) {
      spdlog::warn("sidecar accept failed: {}", ec.message());
      std::this_thread::sleep_for(
          std::chrono::milliseconds(50));  // out of descriptors: back off, do not spin
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto connection = std::make_shared<Connection>(std::move(socket));
    connection->enter(Phase::kIdle, options.idle_timeout);  // before the watchdog can see it
    std::lock_guard lock(mutex);
    if (static_cast<int>(connections.size()) >= options.max_connections && !make_room()) {
      write_error(connection->client, 503, "sidecar connection limit reached");
      continue;
    }
    connections.insert(connection);
    // Under the lock, so that the thread is stored before it can finish.
    connection->worker = std::thread([this, &served = *connection] { serve(served); });
  }
}

bool Proxy::Impl::make_room() {
  Connection* oldest[2] = {nullptr, nullptr};  // idle, receiving a header
  for (const auto& connection : connections) {
    const Phase phase = connection->phase;
    if (phase == Phase::kForwarding) continue;
    auto& slot = oldest[phase == Phase::kIdle ? 0 : 1];
    if (slot == nullptr || connection->phase_since_ns < slot->phase_since_ns) slot = connection.get();
  }
  Connection* evicted = oldest[0] != nullptr ? oldest[0] : oldest[1];
  if (evicted == nullptr) return false;
  // Its thread sees the cut, closes and leaves; the newcomer need not wait for that.
  evicted->cut();
  evicted->phase = Phase::kForwarding;  // not to be picked again meanwhile
  return true;
}

void Proxy::Impl::serve(Connection& connection) {
  beast::flat_buffer client_buffer(net::read_buffer_limit(kMaxHeaderBytes));
  beast::flat_buffer upstream_buffer(net::read_buffer_limit(kMaxHeaderBytes));
  while (!stopping || client_buffer.size() > 0) {
    if (!forward(connection, client_buffer, upstream_buffer)) break;
  }
  std::lock_guard lock(mutex);
  beast::error_code ignored;
  connection.client.close(ignored);
  connection.upstream.close(ignored);
  const auto found = std::find_if(connections.begin(), connections.end(),
                                  [&](const auto& candidate) { return candidate.get() == &connection; });
  finished.push_back(*found);
  connections.erase(found);
  changed.notify_all();
}

bool Proxy::Impl::forward(Connection& connection, beast::flat_buffer& client_buffer,
                          beast::flat_buffer& upstream_buffer) {
  beast::error_code ec;
  connection.enter(Phase::kIdle, options.idle_timeout);
  connection.timed_out = false;
  // Idle until the request's first byte; from then on its header has the header timeout.
  if (client_buffer.size() == 0) {
    connection.client.wait(tcp::socket::wait_read, ec);
    if (ec) return false;
  }
  connection.enter(Phase::kHeader, options.header_timeout);
  net::ChunkExtensionLimit extensions;
  http::request_parser<http::buffer_body> request;
  net::limit_request(request, kMaxHeaderBytes, std::nullopt, extensions);  // bodies are streamed, never held
  http::read_header(connection.client, client_buffer, request, ec);
  if (ec) {
    // Else the client closed, was too slow, or the proxy stops: there is nobody to answer.
    if (const auto refusal = net::refusal_for(ec, false, extensions))
      write_error(connection.client, refusal->status, refusal->message);
    return false;
  }
  connection.enter(Phase::kForwarding, options.upstream_timeout);

  const auto started = SteadyClock::now();
  const std::string method(request.get().method_string());
  const bool head = request.get().method() == http::verb::head;
  const bool client_keeps_alive = request.get().keep_alive();
  const auto progress = [&] { connection.expire_in(options.upstream_timeout); };

  // Answer "Expect: 100-continue" here, so that the body flows to the application without a round trip.
  if (const auto expect = request.get().find(http::field::expect);
      expect != request.get().end() && beast::iequals(expect->value(), "100-continue")) {
    request.get().erase(http::field::expect);
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    asio::write(connection.client, asio::buffer(kContinue.data(), kContinue.size()), ec);
    if (ec) return false;
  }

  if (connection.upstream.is_open() && went_stale(connection.upstream)) {
    beast::error_code ignored;
    std::lock_guard lock(mutex);
    connection.upstream.close(ignored);
    upstream_buffer.clear();
  }
  if (!connection.upstream.is_open()) {
    // Connected apart and then handed over under the lock: the watchdog may cut the upstream meanwhile.
    tcp::socket fresh(context);
    asio::connect(fresh, upstream_endpoints, ec);
    if (ec) {
      upstream_errors.Add({{"kind", "connect"}}).Increment();
      record(method, 502, started);
      write_error(connection.client, 502, "the application is unreachable");
      return false;
    }
    fresh.set_option(tcp::no_delay(true), ec);
    std::lock_guard lock(mutex);
    connection.upstream = std::move(fresh);
  }

  bool reading = false;
  relay_body(connection.upstream, connection.client, client_buffer, request, false, progress, ec, reading);
  if (ec) {
    // Either side broke off mid-request: the streams can no longer be trusted. A request the client sent
    // wrong (a chunk line over the limit, say) is the client's 4xx, not the application's fault.
    const auto refusal = reading ? net::refusal_for(ec, true, extensions) : std::nullopt;
    if (!refusal) upstream_errors.Add({{"kind", "request"}}).Increment();
    const int status = refusal ? refusal->status : 502;
    record(method, status, started);
    write_error(connection.client, status, refusal ? refusal->message : "the request could not be forwarded");
    return false;
  }

  net::ChunkExtensionLimit response_extensions;
  std::optional<http::response_parser<http::buffer_body>> response;
  do {  // interim 1xx answers are the application's business with us, not the client's
    response.emplace();
    response->header_limit(kMaxHeaderBytes);
    response->body_limit(boost::none);
    response->on_chunk_header(response_extensions);
    response->skip(head);
    http::read_header(connection.upstream, upstream_buffer, *response, ec);
  } while (!ec && response->get().result_int() >= 100 && response->get().result_int() < 200 &&
           response->get().result_int() != 101);
  if (ec) {
    const bool timed_out = connection.timed_out.exchange(false);
    upstream_errors.Add({{"kind", timed_out ? "timeout" : "reset"}}).Increment();
    const int status = timed_out ? 504 : 502;
    record(method, status, started);
    write_error(
        connection.client, status,
        timed_out ? "the application did not answer in time" : "the application closed the connection");
    return false;
  }
  const int status = static_cast<int>(response->get().result_int());
  const bool application_keeps_alive = response->get().keep_alive();
  relay_body(connection.client, connection.upstream, upstream_buffer, *response, head, progress, ec, reading);
  record(method, status, started);
  if (ec) {
    upstream_errors.Add({{"kind", "response"}}).Increment();
    return false;
  }
  if (!application_keeps_alive) {
    std::lock_guard lock(mutex);
    beast::error_code ignored;
    connection.upstream.close(ignored);
    upstream_buffer.clear();
  }
  return client_keeps_alive && application_keeps_alive;
}

void Proxy::Impl::watch() {
  std::unique_lock lock(mutex);
  const auto join_finished = [&] {
    auto done = std::move(finished);
    finished.clear();
    lock.unlock();
    for (auto& connection : done) connection->worker.join();
    done.clear();  // the sockets go while the io_context is still there
    lock.lock();
  };
  while (!(stopping && connections.empty())) {
    changed.wait_for(lock, std::chrono::milliseconds(100));
    join_finished();
    const auto now = SteadyClock::now().time_since_epoch().count();
    const bool drained = stopping && SteadyClock::now() >= drain_deadline;
    for (const auto& connection : connections) {
      const bool expired = now > connection->deadline_ns.load();
      const Phase phase = connection->phase;
      if (drained || (phase == Phase::kIdle && (stopping || expired)) ||
          (phase == Phase::kHeader && expired)) {
        connection->cut();
      } else if (expired && !connection->timed_out.exchange(true)) {
        // The application went silent: cut only its side, so that the client still gets a 504; if the
        // client is the silent one, the next expiry cuts everything.
        connection->cut_upstream();
        connection->expire_in(std::chrono::seconds(1));
      } else if (expired) {
        connection->cut();
      }
    }
  }
  join_finished();
}

Proxy::Proxy(ProxyOptions options, prometheus::Registry& registry)
    : impl_(std::make_unique<Impl>(std::move(options), registry)) {}

Proxy::~Proxy() {
  stop();
}

Result<std::uint16_t> Proxy::listen(std::string_view address) {
  auto listen = net::parse_listen_address(address);
  if (!listen) return std::unexpected(listen.error());
  beast::error_code ec;
  tcp::resolver resolver(impl_->context);
  const auto resolved =
      resolver.resolve(impl_->options.upstream_host, std::to_string(impl_->options.upstream_port), ec);
  if (ec) return fail("cannot resolve upstream {}: {}", impl_->options.upstream_host, ec.message());
  impl_->upstream_endpoints.assign(resolved.begin(), resolved.end());

  const tcp::endpoint endpoint(asio::ip::make_address(listen->first), listen->second);
  auto& acceptor = impl_->acceptor.emplace(impl_->context);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    impl_->acceptor.reset();
    return fail("cannot listen on {}: {}", address, ec.message());
  }
  return acceptor.local_endpoint().port();
}

void Proxy::start() {
  impl_->accepter = std::thread([this] { impl_->accept_loop(); });
  impl_->watchdog = std::thread([this] { impl_->watch(); });
}

void Proxy::stop() {
  if (impl_->stopping.exchange(true)) return;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->drain_deadline = SteadyClock::now() + impl_->options.drain_timeout;
  }
  // Wake the accepter from its blocking accept.
  if (impl_->acceptor) ::shutdown(impl_->acceptor->native_handle(), SHUT_RDWR);
  if (impl_->accepter.joinable()) impl_->accepter.join();
  impl_->changed.notify_all();
  if (impl_->watchdog.joinable()) impl_->watchdog.join();
  beast::error_code ignored;
  if (impl_->acceptor) impl_->acceptor->close(ignored);
}

}  // namespace maestro::sidecar
