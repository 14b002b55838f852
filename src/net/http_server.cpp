#include "net/http_server.hpp"

#include <sys/resource.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <functional>
#include <iterator>
#include <mutex>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "net/request_arena.hpp"
#include "net/request_limits.hpp"
#include "net/url.hpp"

namespace maestro::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

std::size_t connection_cap(std::size_t wanted, std::size_t descriptors_per_connection) {
  if (rlimit files{}; ::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY)
    wanted = std::min<std::size_t>(
        wanted, files.rlim_cur * 3 / 4 / std::max<std::size_t>(1, descriptors_per_connection));
  return std::max<std::size_t>(1, wanted);
}

namespace {

constexpr std::string_view kJsonContentType = "application/json";
constexpr std::size_t kReadSize = 65536;  // at most this much per read, as Beast reads

// Appended piece by piece (no format string is parsed): this runs for every response.
void serialize_response(const HttpResponse& response, bool head, bool keep_alive, std::string& out) {
  out.clear();
  const auto reason = http::obsolete_reason(http::int_to_status(static_cast<unsigned>(response.status)));
  out += "HTTP/1.1 ";
  out += fmt::format_int(response.status).c_str();
  out += ' ';
  out += std::string_view(reason.data(), reason.size());
  out += "\r\nContent-Type: ";
  out += response.content_type;
  out += "\r\nContent-Length: ";
  out += fmt::format_int(response.body.size()).c_str();
  out += "\r\n";
  for (const auto& [name, value] : response.headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (!keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  if (!head) out += response.body;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// The server

struct Loop;

struct HttpServer::Impl {
  explicit Impl(HttpServerOptions opts);

  HttpServerOptions options;
  Router router;

  std::vector<std::unique_ptr<Loop>> loops;
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::signal_set> signals;
  std::unordered_map<int, std::function<void(int)>> signal_handlers;
  std::optional<asio::thread_pool> handler_pool;
  std::size_t next_loop = 0;
  std::size_t connections_per_loop = 1;  // the connection cap, shared out between the loops
  std::uint16_t bound_port = 0;

  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> served{0};
  std::vector<std::thread> threads;  // start()'s, or run()'s extra loops
  std::mutex state_mutex;
  std::condition_variable state_changed;
  bool running = false;
  bool in_background = false;  // started by start(): stop() joins the threads

  void accept();
  void admit(Loop& loop, tcp::socket socket);
  void watch_signals();
  void begin_stop();
  void serve_loops(bool on_calling_thread);
};

class Connection;

// One event loop, run by one thread, and the connections it owns.
struct Loop {
  asio::io_context context{1};
  asio::steady_timer sweep_timer{context};
  std::unordered_set<std::shared_ptr<Connection>> connections;
  bool stopping = false;
  SteadyClock::time_point drain_deadline;

  void sweep(HttpServer::Impl& server);
  void schedule_sweep(HttpServer::Impl& server) {
    sweep_timer.expires_after(std::chrono::milliseconds(100));
    sweep_timer.async_wait([this, &server](boost::system::error_code ec) {
      if (!ec) sweep(server);
    });
  }
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  enum class State { kIdle, kReading, kHandling, kWriting };

  Connection(tcp::socket socket, Loop& loop, HttpServer::Impl& server)
      : socket_(std::move(socket)),
        loop_(loop),
        server_(server),
        buffer_(read_buffer_limit(server.options.max_header_bytes)) {}

  void start() { read_next(SteadyClock::now()); }
  // Answers 503 and closes: the server is at its connection cap and every connection is busy.
  void refuse_busy() {
    emplace_request_parser(parser_, arena_);
    reject(503, "the server is at its connection limit");
  }

  State state() const { return state_; }
  SteadyClock::time_point since() const { return since_; }
  bool has_buffered_input() const { return buffer_.size() > 0; }
  // Still sending its request's header: the connection a slow client holds.
  bool reading_header() const { return state_ == State::kReading && !parser_->is_header_done(); }

  void close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    loop_.connections.erase(shared_from_this());
  }

 private:
  void read_next(SteadyClock::time_point now) {
    state_ = State::kIdle;
    since_ = now;
    sent_continue_ = false;
    emplace_request_parser(parser_, arena_);
    limit_request(*parser_, server_.options.max_header_bytes, server_.options.max_body_bytes,
                  chunk_extensions_);
    if (buffer_.size() > 0) return begin_request();
    if (loop_.stopping) return close();
    // Idle until the first byte: from then on the read timeout applies, not the idle timeout. Reading (not
    // waiting for readability) takes a request that is already there at once, and spares re-arming epoll
    // for every request of a keep-alive connection.
    socket_.async_read_some(buffer_.prepare(beast::read_size(buffer_, kReadSize)),
                            [self = shared_from_this()](beast::error_code ec, std::size_t bytes) {
                              if (self->closed_) return;
                              if (ec) return self->close();
                              self->buffer_.commit(bytes);
                              self->begin_request();
                            });
  }

  void begin_request() {
    state_ = State::kReading;
    since_ = SteadyClock::now();
    parse_buffered();
  }

  // Parses what the buffer holds. A request that one read brought whole (the usual case) is handled from
  // here, without a round through the event loop; for the rest of a partial one, on_read reads on.
  void parse_buffered() {
    beast::error_code ec;
    while (buffer_.size() > 0 && !parser_->is_done()) {
      const std::size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == http::error::need_more) {
        ec = {};
        break;
      }
      if (ec || used == 0) break;
    }
    on_read(ec);
  }

  void read_some() {
    http::async_read_some(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (closed_) return;
    if (ec) {
      const auto refusal = refusal_for(ec, parser_->is_header_done(), chunk_extensions_);
      if (!refusal) return close();
      return reject(refusal->status, refusal->message);
    }
    if (parser_->is_done()) return handle();
    if (parser_->is_header_done() && !sent_continue_ && expects_continue()) return send_continue();
    read_some();
  }

  bool expects_continue() const {
    const auto& request = parser_->get();
    const auto expect = request.find(http::field::expect);
    return expect != request.end() && beast::iequals(expect->value(), "100-continue");
  }

  // curl waits a second for this before sending a body it announced with "Expect: 100-continue".
  void send_continue() {
    sent_continue_ = true;
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->close();
                        self->read_some();
                      });
  }

  HttpRequest view() const {
    const auto& message = parser_->get();
    HttpRequest request;
    request.method = std::string_view(message.method_string().data(), message.method_string().size());
    request.target = std::string_view(message.target().data(), message.target().size());
    std::tie(request.path, request.query) = split_target(request.target);
    request.body = message.body();
    request.fields = static_cast<const RequestFields*>(&message);
    return request;
  }

  // Answers an unreadable request and closes the connection: its stream can no longer be trusted.
  void reject(int status, std::string_view message) {
    started_ = SteadyClock::now();
    // The request line is parsed first: a body or header over the limit still has a route to count it under.
    std::optional<HttpRequest> request;
    if (!parser_->get().target().empty()) request = view();
    method_ = request ? std::string(request->method) : "other";
    metrics_ = server_.router.metrics_for_unreadable(request);
    keep_alive_ = false;
    head_ = false;
    response_ = error_response(status, message);
    write_response();
  }

  void handle() {
    state_ = State::kHandling;
    started_ = SteadyClock::now();
    const HttpRequest request = view();
    keep_alive_ = parser_->get().keep_alive() && !loop_.stopping;
    head_ = request.method == "HEAD";
    method_.assign(request.method);
    // A fresh response that keeps the last one's storage: a handler that fills it in place allocates nothing.
    response_.status = 200;
    response_.content_type = kJsonContentType;
    response_.body.clear();
    response_.headers.clear();

    const auto dispatch = server_.router.dispatch(request, response_);
    metrics_ = dispatch.metrics;
    if (dispatch.handler == nullptr) return write_response();
    if (!server_.handler_pool) {
      Router::call(*dispatch.handler, request, response_);
      return write_response();
    }
    asio::post(*server_.handler_pool, [self = shared_from_this(), handler = dispatch.handler, request] {
      Router::call(*handler, request, self->response_);
      asio::post(self->socket_.get_executor(), [self] {
        if (!self->closed_) self->write_response();
      });
    });
  }

  void write_response() {
    state_ = State::kWriting;
    since_ = SteadyClock::now();
    if (loop_.stopping) keep_alive_ = false;
    serialize_response(response_, head_, keep_alive_, out_);
    asio::async_write(
        socket_, asio::buffer(out_),
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_written(ec); });
  }

  void on_written(beast::error_code ec) {
    server_.served.fetch_add(1, std::memory_order_relaxed);
    const auto now = SteadyClock::now();  // when this request ended and the connection's idling began
    if (metrics_ != nullptr) {
      const std::chrono::duration<double> took = now - started_;
      Router::record(metrics_, method_, response_.status, took.count());
    }
    if (ec || !keep_alive_) return close();
    read_next(now);
  }

  tcp::socket socket_;
  Loop& loop_;
  HttpServer::Impl& server_;
  beast::flat_buffer buffer_;  // capped: see net/request_limits.hpp
  ChunkExtensionLimit chunk_extensions_;
  RequestArena arena_;                   // before the parser, whose message it holds: destroyed after it
  std::optional<RequestParser> parser_;  // the next request's reuses the memory of the last one's
  HttpResponse response_;
  std::string out_;
  std::string method_;
  RouteMetrics* metrics_ = nullptr;
  SteadyClock::time_point started_;
  SteadyClock::time_point since_ = SteadyClock::now();
  State state_ = State::kIdle;
  bool keep_alive_ = true;
  bool head_ = false;
  bool sent_continue_ = false;
  bool closed_ = false;
};

void Loop::sweep(HttpServer::Impl& server) {
  const auto now = SteadyClock::now();
  const bool drained = stopping && now >= drain_deadline;
  std::vector<std::shared_ptr<Connection>> expired;
  for (const auto& connection : connections) {
    const auto waited = now - connection->since();
    switch (connection->state()) {
      case Connection::State::kIdle:
        if (stopping && !connection->has_buffered_input())
          expired.push_back(connection);
        else if (waited > server.options.idle_timeout)
          expired.push_back(connection);
        break;
      case Connection::State::kReading:
      case Connection::State::kWriting:
        if (waited > server.options.read_timeout || drained) expired.push_back(connection);
        break;
      case Connection::State::kHandling:
        if (drained) expired.push_back(connection);
        break;
    }
  }
  for (const auto& connection : expired) connection->close();
  // While stopping, the loop ends once its last connection is gone: nothing else keeps it busy.
  if (!stopping || !connections.empty()) schedule_sweep(server);
}

HttpServer::Impl::Impl(HttpServerOptions opts)
    : options(std::move(opts)), router(options.latency_buckets, options.bearer_token) {
  options.io_threads = std::max(options.io_threads, 1);
  for (int i = 0; i < options.io_threads; ++i) loops.push_back(std::make_unique<Loop>());
  connections_per_loop = std::max<std::size_t>(1, connection_cap(options.max_connections, 1) / loops.size());
  if (options.handler_threads > 0) handler_pool.emplace(static_cast<std::size_t>(options.handler_threads));
}

void HttpServer::Impl::accept() {
  Loop& target = *loops[next_loop];
  next_loop = (next_loop + 1) % loops.size();
  acceptor->async_accept(target.context, [this, &target](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || stopping) return;
    if (ec) {
      // Out of file descriptors, say: log, and try again a little later rather than spin.
      spdlog::warn("accept failed: {}", ec.message());
      auto retry = std::make_shared<asio::steady_timer>(loops[0]->context, std::chrono::milliseconds(50));
      retry->async_wait([this, retry](boost::system::error_code) {
        if (!stopping) accept();
      });
      return;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    asio::post(target.context, [this, &target, socket = std::move(socket)]() mutable {
      if (!target.stopping) admit(target, std::move(socket));
    });
    accept();
  });
}

void HttpServer::Impl::admit(Loop& loop, tcp::socket socket) {
  auto connection = std::make_shared<Connection>(std::move(socket), loop, *this);
  if (loop.connections.size() >= connections_per_loop) {
    // Make room by closing the connection that costs its client least: an idle keep-alive one (clients
    // reconnect), else the one that has been sending its header longest (a slow client's).
    std::shared_ptr<Connection> idle, slow;
    const auto keep_oldest = [](std::shared_ptr<Connection>& oldest, const std::shared_ptr<Connection>& c) {
      if (!oldest || c->since() < oldest->since()) oldest = c;
    };
    for (const auto& candidate : loop.connections) {
      if (candidate->state() == Connection::State::kIdle)
        keep_oldest(idle, candidate);
      else if (candidate->reading_header())
        keep_oldest(slow, candidate);
    }
    if (auto evicted = idle ? idle : slow) {
      evicted->close();
    } else {
      loop.connections.insert(connection);
      return connection->refuse_busy();
    }
  }
  loop.connections.insert(connection);
  connection->start();
}

void HttpServer::Impl::begin_stop() {
  if (stopping.exchange(true)) return;
  const auto deadline = SteadyClock::now() + options.drain_timeout;
  for (std::size_t i = 0; i < loops.size(); ++i) {
    Loop& loop = *loops[i];
    asio::post(loop.context, [this, &loop, i, deadline] {
      loop.stopping = true;
      loop.drain_deadline = deadline;
      if (i == 0) {
        boost::system::error_code ignored;
        if (acceptor) acceptor->close(ignored);
        if (signals) signals->cancel(ignored);
      }
      loop.sweep_timer.cancel();
      loop.sweep(*this);
    });
  }
}

void HttpServer::Impl::serve_loops(bool on_calling_thread) {
  {
    std::lock_guard lock(state_mutex);
    running = true;
  }
  for (auto& loop : loops) loop->schedule_sweep(*this);
  if (acceptor && !stopping) accept();
  if (!signal_handlers.empty() && !stopping) watch_signals();
  const std::size_t first_background = on_calling_thread ? 1 : 0;
  for (std::size_t i = first_background; i < loops.size(); ++i)
    threads.emplace_back([loop = loops[i].get()] { loop->context.run(); });
  if (on_calling_thread) loops[0]->context.run();
}

HttpServer::HttpServer(HttpServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::route(std::string method, std::string path, Handler handler) {
  impl_->router.route(std::move(method), std::move(path), std::move(handler));
}

void HttpServer::fallback(Handler handler) {
  impl_->router.fallback(std::move(handler));
}

void HttpServer::set_readiness(std::function<bool()> ready) {
  impl_->router.set_readiness(std::move(ready));
}

prometheus::Registry& HttpServer::registry() {
  return impl_->router.registry();
}

Result<std::uint16_t> HttpServer::listen(std::string_view address) {
  auto parsed = parse_listen_address(address);
  if (!parsed) return std::unexpected(parsed.error());
  boost::system::error_code ec;
  const tcp::endpoint endpoint(asio::ip::make_address(parsed->first), parsed->second);
  auto& acceptor = impl_->acceptor.emplace(impl_->loops[0]->context);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    impl_->acceptor.reset();
    return fail("cannot listen on {}: {}", address, ec.message());
  }
  impl_->bound_port = acceptor.local_endpoint().port();
  return impl_->bound_port;
}

std::uint16_t HttpServer::port() const {
  return impl_->bound_port;
}

void HttpServer::start() {
  {
    std::lock_guard lock(impl_->state_mutex);
    impl_->in_background = true;
  }
  impl_->serve_loops(false);
}

void HttpServer::run() {
  impl_->serve_loops(true);
  for (auto& thread : impl_->threads) thread.join();
  impl_->threads.clear();
  if (impl_->handler_pool) impl_->handler_pool->join();
  std::lock_guard lock(impl_->state_mutex);
  impl_->running = false;
  impl_->state_changed.notify_all();
}

void HttpServer::stop() {
  impl_->begin_stop();
  std::unique_lock lock(impl_->state_mutex);
  if (!impl_->running) return;
  if (!impl_->in_background) {
    // run() is serving on another thread: it returns once the loops have drained.
    impl_->state_changed.wait(lock, [this] { return !impl_->running; });
    return;
  }
  impl_->in_background = false;
  auto threads = std::move(impl_->threads);
  lock.unlock();
  for (auto& thread : threads) thread.join();
  if (impl_->handler_pool) impl_->handler_pool->join();
  lock.lock();
  impl_->running = false;
  impl_->state_changed.notify_all();
}

void HttpServer::handle_signals(std::vector<int> signals, std::function<void(int)> on_signal) {
  for (int signal : signals) impl_->signal_handlers[signal] = on_signal;
}

void HttpServer::Impl::watch_signals() {
  auto& set = signals.emplace(loops[0]->context);
  for (const auto& [signal, handler] : signal_handlers) set.add(signal);
  struct Rearm {
    Impl* impl;
    void operator()(boost::system::error_code ec, int signal) const {
      if (ec) return;
      impl->signal_handlers.at(signal)(signal);
      if (!impl->stopping) impl->signals->async_wait(*this);
    }
  };
  set.async_wait(Rearm{this});
}

void HttpServer::stop_on_signals() {
  handle_signals({SIGTERM, SIGINT}, [this](int signal) {
    spdlog::info("signal {}: finishing requests in flight, then stopping", signal);
    impl_->begin_stop();
  });
}

std::uint64_t HttpServer::requests_served() const {
  return impl_->served.load(std::memory_order_relaxed);
}

}  // namespace maestro::net
