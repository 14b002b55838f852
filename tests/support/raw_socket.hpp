// A blocking loopback socket for what an HTTP client library will not do: half requests, idling, pipelining,
// hostile clients. Header-only, for tests.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace maestro::testing {

// One client connection to 127.0.0.1:port.
class RawSocket {
 public:
  explicit RawSocket(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~RawSocket() { ::close(fd_); }
  bool connected() const { return connected_; }

  void send(std::string_view data) {
    ASSERT_EQ(::send(fd_, data.data(), data.size(), MSG_NOSIGNAL), (ssize_t)data.size());
  }
  // Sends what it can; false once the peer has stopped taking data.
  bool try_send(std::string_view data) {
    return ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == (ssize_t)data.size();
  }

  // Reads until `text` has arrived, the peer closes, or the deadline passes; returns what arrived.
  std::string read_until(std::string_view text,
                         std::chrono::milliseconds deadline = std::chrono::seconds(5)) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (received_.find(text) == std::string::npos && !closed_) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left <= std::chrono::milliseconds(0)) break;
      pollfd waiting{fd_, POLLIN, 0};
      if (::poll(&waiting, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0)
        closed_ = true;
      else
        received_.append(chunk, static_cast<std::size_t>(n));
    }
    return received_;
  }
  // The first line of what arrives (an answer's status line), or "" if nothing does.
  std::string status_line(std::chrono::milliseconds deadline = std::chrono::seconds(5)) {
    const std::string received = read_until("\r\n", deadline);
    return received.substr(0, received.find("\r\n"));
  }
  // True once the server has closed the connection (polls until the deadline).
  bool closed_by_peer(std::chrono::milliseconds deadline = std::chrono::seconds(5)) {
    read_until("\x01never\x01", deadline);
    return closed_;
  }

 private:
  int fd_;
  bool connected_ = false;
  bool closed_ = false;
  std::string received_;
};

}  // namespace maestro::testing
