#include "net/http_message.hpp"

#include "net/request_arena.hpp"
#include "net/url.hpp"

namespace maestro::net {

std::optional<std::string_view> HttpRequest::header(std::string_view name) const {
  if (fields == nullptr) return std::nullopt;
  const auto& all = *static_cast<const RequestFields*>(fields);
  const auto found = all.find(boost::beast::string_view(name.data(), name.size()));
  if (found == all.end()) return std::nullopt;
  return std::string_view(found->value().data(), found->value().size());
}

std::optional<std::string> HttpRequest::query_param(std::string_view name) const {
  return query_parameter(query, name);
}

std::string json_text(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

HttpResponse error_response(int status, std::string_view message) {
  HttpResponse response;
  response.status = status;
  response.body = json_text(nlohmann::json{{"error", message}});
  return response;
}

HttpResponse json_response(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

}  // namespace maestro::net
