// What one HTTP request may make a reader hold, shared by net::HttpServer and the sidecar. Beast's
// header_limit and body_limit leave a way to grow a read buffer without bound: a chunk-size line (with its
// extensions, e.g. "5;x=" and then hundreds of MB) and a trailer are parsed only once complete, and count
// against neither limit. So the buffer a request is read into is capped (read_buffer_limit), and the chunk
// extensions of one request together are capped too (ChunkExtensionLimit), since a client could otherwise
// send them forever in small pieces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/parser.hpp>

namespace maestro::net {

// All chunk extensions of one request together, in bytes. Nothing MAESTRO serves uses them.
inline constexpr std::size_t kMaxChunkExtensionBytes = 4096;

// The capacity, in bytes, of the buffer a request is read into: a header at `max_header_bytes`, or a
// chunk-size line with the extensions allowed, must fit.
std::size_t read_buffer_limit(std::size_t max_header_bytes);

// Refuses a request once its chunk extensions add up to more than kMaxChunkExtensionBytes. Install it
// with `parser.on_chunk_header(limit)` (Beast keeps a reference: it must outlive the parser) and reset()
// it for every request.
class ChunkExtensionLimit {
 public:
  void operator()(std::uint64_t size, boost::beast::string_view extensions, boost::beast::error_code& ec);
  void reset() { bytes_ = 0; }
  bool exceeded() const { return bytes_ > kMaxChunkExtensionBytes; }

 private:
  std::size_t bytes_ = 0;
};

// Sets the limits every MAESTRO server reads a request with: the header at `max_header_bytes`, the body at
// `max_body_bytes` (nullopt: streamed, so unlimited) and chunk extensions through `extensions` (reset
// here; it must outlive the parser). The buffer read into must be capped at read_buffer_limit too.
template <class Body, class Allocator>
void limit_request(boost::beast::http::request_parser<Body, Allocator>& parser, std::size_t max_header_bytes,
                   std::optional<std::uint64_t> max_body_bytes, ChunkExtensionLimit& extensions) {
  parser.header_limit(static_cast<std::uint32_t>(max_header_bytes));
  if (max_body_bytes)
    parser.body_limit(*max_body_bytes);
  else
    parser.body_limit(boost::none);
  extensions.reset();
  parser.on_chunk_header(extensions);
}

// How to answer a request whose reading failed with `ec` (a 4xx status and a message), or nullopt when
// there is nobody to answer (the client went away, the read was cancelled). `header_done`: whether the
// request's header had been parsed when reading failed.
struct Refusal {
  int status;
  std::string message;
};
std::optional<Refusal> refusal_for(boost::beast::error_code ec, bool header_done,
                                   const ChunkExtensionLimit& extensions);

}  // namespace maestro::net
