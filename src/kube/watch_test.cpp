// The watch stream: events split anywhere between pieces, blank lines, malformed and oversized lines; and a
// watch against a server that really streams — each event is handed over as it arrives, before the next is
// sent — ending with an ERROR event's 410 as kGone.
#include "kube/watch.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace maestro::kube {
namespace {

std::vector<WatchEvent> decode(WatchDecoder& decoder, std::initializer_list<std::string_view> pieces,
                               KubeResult<void>* last = nullptr) {
  std::vector<WatchEvent> events;
  for (const auto piece : pieces) {
    auto fed = decoder.feed(piece, [&](WatchEvent event) { events.push_back(std::move(event)); });
    if (last) *last = fed;
    if (!fed) break;
  }
  return events;
}

TEST(WatchDecoder, TakesEventsSplitAnywhereAndSkipsBlankLines) {
  WatchDecoder decoder;
  const auto events = decode(decoder, {R"({"type":"ADDED","obj)",
                                       R"(ect":{"a":1}})"
                                       "\n\r\n",
                                       R"({"type":"DELETED","object":{"a":2}})", "\n"});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, "ADDED");
  EXPECT_EQ(events[0].object["a"], 1);
  EXPECT_EQ(events[1].type, "DELETED");
}

TEST(WatchDecoder, RefusesAMalformedOrOversizedLine) {
  KubeResult<void> fed;
  WatchDecoder decoder;
  EXPECT_TRUE(decode(decoder, {"{\"type\":\"ADDED\"}\n"}, &fed).empty());
  ASSERT_FALSE(fed.has_value());
  EXPECT_EQ(fed.error().kind, KubeErrorKind::kBadResponse);
  WatchDecoder small(16);
  EXPECT_TRUE(decode(small, {"{\"type\":\"ADDED\",", "\"object\":{}}\n"}, &fed).empty());
  ASSERT_FALSE(fed.has_value());
  EXPECT_NE(fed.error().message.find("longer than 16 bytes"), std::string::npos);
}

// One connection: answers its request with a chunked 200 and writes the pieces it is given until told to end.
class StreamingServer {
 public:
  StreamingServer() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(listener_, 1);
    socklen_t size = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~StreamingServer() {
    send("");  // ends the stream, if still open
    thread_.join();
    ::close(listener_);
  }
  int port() const { return port_; }
  std::string request() {
    std::unique_lock lock(mutex_);
    return request_;
  }
  // Writes `piece` as one chunk ("" ends the response).
  void send(std::string piece) {
    std::lock_guard lock(mutex_);
    pieces_.push_back(std::move(piece));
    ready_.notify_all();
  }

 private:
  void serve() {
    const int connection = ::accept(listener_, nullptr, nullptr);
    char buffer[4096];
    std::string received;
    while (received.find("\r\n\r\n") == std::string::npos) {
      const auto n = ::read(connection, buffer, sizeof buffer);
      if (n <= 0) break;
      received.append(buffer, static_cast<std::size_t>(n));
    }
    {
      std::lock_guard lock(mutex_);
      request_ = received;
    }
    const std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    ::send(connection, head.data(), head.size(), MSG_NOSIGNAL);
    while (true) {
      std::string piece;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return !pieces_.empty(); });
        piece = std::move(pieces_.front());
        pieces_.erase(pieces_.begin());
      }
      const std::string chunk =
          piece.empty() ? "0\r\n\r\n" : fmt::format("{:x}\r\n{}\r\n", piece.size(), piece);
      // The client may have gone (it ends the watch on an error): no SIGPIPE.
      ::send(connection, chunk.data(), chunk.size(), MSG_NOSIGNAL);
      if (piece.empty()) break;
    }
    ::close(connection);
  }

  int listener_ = -1, port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<std::string> pieces_;
  std::string request_;
};

TEST(Watch, HandsOverEachEventAsItArrivesAndEndsGoneOnA410Event) {
  StreamingServer server;
  net::HttpClientOptions options;
  options.base_url = fmt::format("http://127.0.0.1:{}", server.port());
  options.retry.max_attempts = 1;
  KubeClient kube(options);
  std::mutex mutex;
  std::condition_variable seen;
  std::vector<std::string> names;
  std::thread watcher([&] {
    WatchOptions watch{"41", 30, {}};
    const auto ended = watch_objects(kube, kMaestroAutoscalers, "shop", watch, [&](const WatchEvent& event) {
      std::lock_guard lock(mutex);
      names.push_back(event.type + " " + event.object["metadata"].value("name", ""));
      seen.notify_all();
    });
    ASSERT_FALSE(ended.has_value());
    EXPECT_EQ(ended.error().kind, KubeErrorKind::kGone);
    EXPECT_EQ(ended.error().http_status, 410);
  });
  const auto wait_for = [&](std::size_t count) {
    std::unique_lock lock(mutex);
    return seen.wait_for(lock, std::chrono::seconds(10), [&] { return names.size() >= count; });
  };
  server.send(R"({"type":"ADDED","object":{"metadata":{"name":"web","resourceVersion":"42"}}})"
              "\n");
  ASSERT_TRUE(wait_for(1));  // handed over while the response is still open
  server.send(R"({"type":"MODIFIED","object":{"metadata":{"na)");
  server.send(R"(me":"web","resourceVersion":"43"}}})"
              "\n"
              R"({"type":"BOOKMARK","object":{"metadata":)"
              R"({"resourceVersion":"44"}}})"
              "\n");
  ASSERT_TRUE(wait_for(2));
  server.send(R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure",)"
              R"("reason":"Expired","message":"too old resource version","code":410}})"
              "\n");
  watcher.join();
  EXPECT_EQ(names, (std::vector<std::string>{"ADDED web", "MODIFIED web"}));  // no bookmark, no error
  const std::string request = server.request();
  EXPECT_NE(
      request.find("GET /apis/autoscaling.maestro.io/v1alpha1/namespaces/shop/maestroautoscalers?watch=true"),
      std::string::npos);
  EXPECT_NE(request.find("resourceVersion=41"), std::string::npos);
}

}  // namespace
}  // namespace maestro::kube
