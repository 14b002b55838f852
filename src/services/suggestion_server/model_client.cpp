#include "services/suggestion_server/model_client.hpp"

#include <cmath>

#include <nlohmann/json.hpp>

namespace maestro::suggestion_server {

namespace {

Result<nlohmann::json> json_object(std::string_view body) {
  auto document = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!document.is_object()) return fail("model answered with something that is not a JSON object");
  return document;
}

Result<std::string> string_field(const nlohmann::json& document, const char* name) {
  const auto field = document.find(name);
  if (field == document.end() || !field->is_string()) return fail("model answer has no string \"{}\"", name);
  return field->get<std::string>();
}

Result<int> count_field(const nlohmann::json& document, const char* name) {
  const auto field = document.find(name);
  if (field == document.end() || !field->is_number_integer() || field->get<long long>() < 0 ||
      field->get<long long>() > 1'000'000'000)
    return fail("model answer has no non-negative integer \"{}\"", name);
  return field->get<int>();
}

// The body of a non-200 answer: the server's {"error": ...} if it sent one.
std::string why(const net::Response& response) {
  const auto error = nlohmann::json::parse(response.body, nullptr, false);
  return error.is_object() && error.contains("error") && error["error"].is_string()
             ? error["error"].get<std::string>()
             : response.body.substr(0, 200);
}

}  // namespace

Result<PolicyNeeds> parse_policy_needs(std::string_view body) {
  auto document = json_object(body);
  if (!document) return std::unexpected(document.error());
  auto version = string_field(*document, "model_version");
  if (!version) return std::unexpected(version.error());
  auto set_name = string_field(*document, "feature_set");
  if (!set_name) return std::unexpected(set_name.error());
  const auto set = core::feature_set_from_name(*set_name);
  if (!set) return fail("model's policy uses feature set '{}', which this server cannot build", *set_name);
  const auto memory = document->find("memory_limit_bytes_per_pod");
  const auto needs = document->find("needs_features");
  if (memory == document->end() || !memory->is_number() || needs == document->end() || !needs->is_boolean())
    return fail("model's /policy has no \"memory_limit_bytes_per_pod\" or \"needs_features\"");
  auto spec = core::validate(core::FeatureSpec{*set, memory->get<double>()});
  if (!spec) return fail("model's /policy: {}", spec.error().message);
  // Absent from model servers older than utilisation targets, whose policies never need it.
  const auto needs_cpu = document->find("needs_cpu_request");
  if (needs_cpu != document->end() && !needs_cpu->is_boolean())
    return fail("model's /policy: \"needs_cpu_request\" is not a boolean");
  return PolicyNeeds{.model_version = *version,
                     .features = *spec,
                     .needs_features = needs->get<bool>(),
                     .needs_cpu_request = needs_cpu != document->end() && needs_cpu->get<bool>()};
}

Result<ModelAnswer> parse_model_answer(std::string_view body) {
  auto document = json_object(body);
  if (!document) return std::unexpected(document.error());
  ModelAnswer answer;
  auto action = count_field(*document, "action");
  if (!action) return fail("model answer has no action index (a non-negative integer \"action\")");
  answer.action = *action;
  auto name = string_field(*document, "action_name");
  if (!name) return std::unexpected(name.error());
  answer.action_name = std::move(*name);
  auto set = string_field(*document, "action_set");
  if (!set) return std::unexpected(set.error());
  answer.action_set = std::move(*set);
  const auto change = document->find("replica_change");
  if (change == document->end() || !change->is_object() || !change->contains("kind") ||
      !(*change)["kind"].is_string() || !change->contains("amount") || !(*change)["amount"].is_number())
    return fail("model answer has no \"replica_change\" {{\"kind\": …, \"amount\": …}}");
  // A utilisation target comes resolved into pods (the model server knows the CPU); unresolved, nobody
  // downstream could apply it.
  const auto kind = core::replica_change_kind_from_name((*change)["kind"].get<std::string>());
  const double amount = (*change)["amount"].get<double>();
  if (!kind || *kind == core::ReplicaChange::Kind::kUtilisation || !std::isfinite(amount))
    return fail("model answer's replica_change {} is not pods or percent by a number", change->dump());
  answer.replica_change = {*kind, amount};
  auto replicas = count_field(*document, "replicas");
  if (!replicas) return std::unexpected(replicas.error());
  answer.replicas = *replicas;
  auto desired = count_field(*document, "desired_replicas");
  if (!desired) return std::unexpected(desired.error());
  answer.desired_replicas = *desired;
  if (const auto probabilities = document->find("probabilities");
      probabilities != document->end() && probabilities->is_array())
    for (const auto& p : *probabilities)
      answer.probabilities.push_back(p.is_number() ? p.get<double>() : 0.0);
  if (auto version = string_field(*document, "model_version")) answer.model_version = std::move(*version);
  return answer;
}

Result<PolicyNeeds> HttpModelClient::needs() {
  auto response = http_.get("/policy");
  if (!response) return fail("model server unreachable: {}", response.error().message);
  if (response->status != 200)
    return fail("model server answered {} to /policy: {}", response->status, why(*response));
  return parse_policy_needs(response->body);
}

Result<ModelAnswer> HttpModelClient::predict(const core::Observation& observation,
                                             std::span<const double> features,
                                             std::optional<double> cpu_request_cores) {
  nlohmann::json body = nlohmann::json::object();
  const auto values = observation.values();
  for (std::size_t i = 0; i < core::Observation::kSize; ++i)
    body[std::string(core::Observation::kFieldNames[i])] = values[i];
  if (!features.empty()) body["features"] = std::vector<double>(features.begin(), features.end());
  if (cpu_request_cores) body["cpu_request_cores"] = *cpu_request_cores;
  auto response = http_.post("/predict", body.dump());
  if (!response) return fail("model server unreachable: {}", response.error().message);
  if (response->status != 200) return fail("model server answered {}: {}", response->status, why(*response));
  return parse_model_answer(response->body);
}

}  // namespace maestro::suggestion_server
