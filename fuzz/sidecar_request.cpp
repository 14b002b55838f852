// The sidecar's request reading, without a socket: its parser (buffer_body: bodies streamed through a
// fixed chunk, never held) with its limits and capped buffer, the header as it is forwarded, and the
// method label it records. Invariants: every refusal is a 4xx, and no label is taken from the client as sent.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <sstream>

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/write.hpp>

#include "feed.hpp"
#include "net/http_server.hpp"
#include "net/request_limits.hpp"
#include "services/sidecar/proxy.hpp"

namespace http = boost::beast::http;
using namespace maestro;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t read_size = 1 + data[0] % 64 * 97;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  boost::beast::flat_buffer buffer(net::read_buffer_limit(sidecar::kMaxHeaderBytes));
  std::array<char, 4096> chunk;
  for (;;) {
    net::ChunkExtensionLimit extensions;
    http::request_parser<http::buffer_body> parser;
    net::limit_request(parser, sidecar::kMaxHeaderBytes, std::nullopt, extensions);
    const auto relay = [&] {  // the piece read so far went to the application; read the next into the chunk
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
    };
    relay();
    boost::beast::error_code ec;
    const bool done = fuzz::feed(input, read_size, buffer, parser, ec, relay);
    if (parser.is_header_done()) {
      const auto label = net::method_label(parser.get().method_string());
      if (label != "other" && label != parser.get().method_string()) std::abort();
      std::ostringstream forwarded;
      forwarded << parser.get().base();
    }
    if (!done) {
      if (const auto refusal = net::refusal_for(ec, parser.is_header_done(), extensions);
          refusal && (refusal->status < 400 || refusal->status > 499))
        std::abort();
      return 0;
    }
    if (!parser.get().keep_alive()) return 0;
  }
}
