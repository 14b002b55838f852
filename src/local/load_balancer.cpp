#include "local/load_balancer.hpp"

#include <array>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include <boost/asio.hpp>

namespace maestro::local {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// One client connection spliced to one pod: bytes copied both ways; a side's end of stream is passed on as
// a half-close, and the session ends when both directions have ended or either fails.
class Splice : public std::enable_shared_from_this<Splice> {
 public:
  // `on_end` runs once the session is over (both sockets closed, no handler pending).
  Splice(tcp::socket client, asio::io_context& io, std::function<void()> on_end)
      : client_(std::move(client)), pod_(io), on_end_(std::move(on_end)) {}
  ~Splice() { on_end_(); }
  Splice(const Splice&) = delete;
  Splice& operator=(const Splice&) = delete;

  void start(std::uint16_t pod_port) {
    auto self = shared_from_this();
    pod_.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), pod_port),
                       [self](boost::system::error_code error) {
                         if (error) return self->close();
                         self->client_.set_option(tcp::no_delay(true));
                         self->pod_.set_option(tcp::no_delay(true));
                         self->pump(self->client_, self->pod_, self->upstream_);
                         self->pump(self->pod_, self->client_, self->downstream_);
                       });
  }

 private:
  using Buffer = std::array<char, 16384>;

  void pump(tcp::socket& from, tcp::socket& to, Buffer& buffer) {
    auto self = shared_from_this();
    from.async_read_some(
        asio::buffer(buffer), [self, &from, &to, &buffer](boost::system::error_code error, std::size_t size) {
          if (error) {
            boost::system::error_code ignored;
            to.shutdown(tcp::socket::shutdown_send, ignored);
            if (++self->ended_ == 2 || error != asio::error::eof) self->close();
            return;
          }
          asio::async_write(to, asio::buffer(buffer, size),
                            [self, &from, &to, &buffer](boost::system::error_code error, std::size_t) {
                              if (error) return self->close();
                              self->pump(from, to, buffer);
                            });
        });
  }

  void close() {
    boost::system::error_code ignored;
    client_.close(ignored);
    pod_.close(ignored);
  }

  tcp::socket client_;
  tcp::socket pod_;
  std::function<void()> on_end_;
  Buffer upstream_{};
  Buffer downstream_{};
  int ended_ = 0;
};

}  // namespace

struct LoadBalancer::Impl {
  explicit Impl(std::uint64_t seed) : random(seed), acceptor(io) {}

  void accept() {
    acceptor.async_accept([this](boost::system::error_code error, tcp::socket client) {
      if (error == asio::error::operation_aborted) return;
      if (!error) {
        if (const auto port = pick()) {
          std::make_shared<Splice>(std::move(client), io, [this, port = *port] {
            std::lock_guard lock(mutex);
            if (--open[port] == 0) open.erase(port);
          })->start(*port);
        } else {
          boost::system::error_code ignored;
          client.close(ignored);
        }
      }
      accept();
    });
  }

  // A ready endpoint at random, counted as open from here: once set_endpoints() has dropped a pod, its count
  // can only fall.
  std::optional<std::uint16_t> pick() {
    std::lock_guard lock(mutex);
    if (ports.empty()) return std::nullopt;
    const auto port = ports[std::uniform_int_distribution<std::size_t>(0, ports.size() - 1)(random)];
    ++open[port];
    return port;
  }

  mutable std::mutex mutex;
  std::vector<std::uint16_t> ports;
  std::map<std::uint16_t, int> open;  // sessions per pod port; declared before io, whose end may close some
  std::mt19937_64 random;
  asio::io_context io;
  tcp::acceptor acceptor;
  std::thread thread;
  std::uint16_t port = 0;
};

LoadBalancer::LoadBalancer(std::uint64_t seed) : impl_(std::make_unique<Impl>(seed)) {}

LoadBalancer::~LoadBalancer() {
  stop();
}

Result<std::uint16_t> LoadBalancer::start(const std::string& host, std::uint16_t port) {
  boost::system::error_code error;
  const auto address = asio::ip::make_address(host, error);
  if (error) return fail("load balancer: bad address {}: {}", host, error.message());
  const tcp::endpoint endpoint(address, port);
  impl_->acceptor.open(endpoint.protocol(), error);
  if (!error) impl_->acceptor.set_option(tcp::acceptor::reuse_address(true), error);
  if (!error) impl_->acceptor.bind(endpoint, error);
  if (!error) impl_->acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) return fail("load balancer: cannot listen on {}:{}: {}", host, port, error.message());
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->accept();
  impl_->thread = std::thread([this] { impl_->io.run(); });
  return impl_->port;
}

void LoadBalancer::stop() {
  if (!impl_->thread.joinable()) return;
  impl_->io.stop();
  impl_->thread.join();
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
}

std::uint16_t LoadBalancer::port() const {
  return impl_->port;
}

void LoadBalancer::set_endpoints(std::vector<std::uint16_t> ports) {
  std::lock_guard lock(impl_->mutex);
  impl_->ports = std::move(ports);
}

std::vector<std::uint16_t> LoadBalancer::endpoints() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->ports;
}

int LoadBalancer::open_connections(std::uint16_t port) const {
  std::lock_guard lock(impl_->mutex);
  const auto found = impl_->open.find(port);
  return found == impl_->open.end() ? 0 : found->second;
}

}  // namespace maestro::local
