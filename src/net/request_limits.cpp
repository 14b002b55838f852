#include "net/request_limits.hpp"

#include <fmt/format.h>
#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>

namespace maestro::net {

namespace http = boost::beast::http;

namespace {
// Room for a chunk size in hex, its ';' and the line's CRLF.
constexpr std::size_t kChunkLineFraming = 64;
}  // namespace

std::size_t read_buffer_limit(std::size_t max_header_bytes) {
  return max_header_bytes + kMaxChunkExtensionBytes + kChunkLineFraming;
}

void ChunkExtensionLimit::operator()(std::uint64_t, boost::beast::string_view extensions,
                                     boost::beast::error_code& ec) {
  bytes_ += extensions.size();
  if (exceeded()) ec = http::error::bad_chunk_extension;
}

std::optional<Refusal> refusal_for(boost::beast::error_code ec, bool header_done,
                                   const ChunkExtensionLimit& extensions) {
  namespace asio = boost::asio;
  if (ec == http::error::end_of_stream || ec == http::error::partial_message || ec == asio::error::eof ||
      ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
      ec == asio::error::broken_pipe || ec == asio::error::not_connected || ec == asio::error::bad_descriptor)
    return std::nullopt;
  if (ec == http::error::body_limit) return Refusal{413, "request body is over the limit"};
  if (ec == http::error::header_limit || (ec == http::error::buffer_overflow && !header_done))
    return Refusal{431, "request header is over the limit"};
  if (extensions.exceeded())
    return Refusal{413,
                   fmt::format("chunk extensions are over the limit of {} bytes", kMaxChunkExtensionBytes)};
  // Past the header, only a chunk-size line or a trailer can fill the buffer.
  if (ec == http::error::buffer_overflow) return Refusal{413, "a chunk line or trailer is over the limit"};
  if (ec.category() == make_error_code(http::error::end_of_stream).category())
    return Refusal{400, fmt::format("malformed HTTP request: {}", ec.message())};
  return std::nullopt;
}

}  // namespace maestro::net
