// Feeds fuzz input to a Beast parser the way a connection reads it: through a buffer capped at
// net::read_buffer_limit, in reads whose sizes the input's first byte picks, so that headers, chunk lines
// and bodies are split at every possible point.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>

namespace maestro::fuzz {

// Reads from `input` into `buffer` and parses until the parser is done (true), needs what `input` no
// longer has, or fails (`ec`). `more` runs whenever the parser asks for more room for a body (buffer_body).
template <class Parser, class More>
bool feed(std::string_view& input, std::size_t read_size, boost::beast::flat_buffer& buffer, Parser& parser,
          boost::beast::error_code& ec, More more) {
  namespace http = boost::beast::http;
  for (;;) {
    while (buffer.size() > 0) {
      const std::size_t used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      if (ec == http::error::need_buffer) {
        ec = {};
        more();
        continue;
      }
      if (ec == http::error::need_more) {
        ec = {};
        break;
      }
      if (ec) return false;
      if (parser.is_done()) return true;
      if (used == 0) break;
    }
    if (input.empty()) return false;
    const std::size_t room = buffer.max_size() - buffer.size();
    if (room == 0) {
      ec = http::error::buffer_overflow;  // what a connection's read gets from a full buffer
      return false;
    }
    const std::size_t size = std::min({read_size, room, input.size()});
    buffer.commit(boost::asio::buffer_copy(buffer.prepare(size), boost::asio::buffer(input.data(), size)));
    input.remove_prefix(size);
  }
}

}  // namespace maestro::fuzz
