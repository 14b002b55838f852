// net::HttpServer's request reading, without a socket: its parser (net::RequestParser) with its limits, its
// capped read buffer and chunk-extension limit, then everything a handler or an error answer reads of a
// request (path, query parameters, headers, the 404 and refusal bodies). Invariants: every refusal is a 4xx,
// and every body is JSON that parses.
#include <cstdint>
#include <cstdlib>
#include <string>

#include <fmt/format.h>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>

#include "feed.hpp"
#include "net/http_server.hpp"
#include "net/request_arena.hpp"
#include "net/request_limits.hpp"

namespace http = boost::beast::http;
using namespace maestro;

namespace {

void check_json(const std::string& body) {
  if (!nlohmann::json::accept(body)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const net::HttpServerOptions options;
  const std::size_t read_size = 1 + data[0] % 64 * 97;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  boost::beast::flat_buffer buffer(net::read_buffer_limit(options.max_header_bytes));
  // Keep-alive: requests follow one another on the connection until one fails or the input ends, each read
  // into the memory of the one before, as a connection reads them.
  net::RequestArena arena;
  std::optional<net::RequestParser> parser_slot;
  for (;;) {
    net::ChunkExtensionLimit extensions;
    net::emplace_request_parser(parser_slot, arena);
    auto& parser = *parser_slot;
    net::limit_request(parser, options.max_header_bytes, options.max_body_bytes, extensions);
    boost::beast::error_code ec;
    if (!fuzz::feed(input, read_size, buffer, parser, ec, [] {})) {
      if (ec) {
        const auto refusal = net::refusal_for(ec, parser.is_header_done(), extensions);
        if (refusal) {
          if (refusal->status < 400 || refusal->status > 499) std::abort();
          check_json(net::error_response(refusal->status, refusal->message).body);
        }
      }
      return 0;
    }
    const auto& message = parser.get();
    net::HttpRequest request;
    request.method = std::string_view(message.method_string().data(), message.method_string().size());
    request.target = std::string_view(message.target().data(), message.target().size());
    std::tie(request.path, request.query) = net::split_target(request.target);
    request.body = message.body();
    request.fields = static_cast<const net::RequestFields*>(&message);
    if (request.body.size() > options.max_body_bytes) std::abort();
    (void)net::method_label(request.method);
    (void)request.header("Content-Type");
    for (const char* name : {"deployment", "namespace", ""}) (void)request.query_param(name);
    check_json(net::error_response(404, fmt::format("no such endpoint: {}", request.path)).body);
    check_json(
        net::error_response(405, fmt::format("{} is not allowed on {}", request.method, request.path)).body);
    if (!message.keep_alive()) return 0;
  }
}
