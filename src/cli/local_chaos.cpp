// `maestro local chaos apply FILE | list | delete NAME`: Chaos Mesh specs (PodChaos, StressChaos, Schedule —
// the files of deploy/chaos/ as they are) against the cluster `maestro local up` runs in --state-dir, through
// its chaos endpoint (the URL `up` writes to STATE/chaos.url). The spec is checked before it is sent.
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "cli/local_command.hpp"
#include "local/chaos_spec.hpp"
#include "local/local_config.hpp"
#include "net/http_client.hpp"

namespace maestro::cli {
namespace {

struct ChaosOptions {
  std::string state_dir = local::LocalConfig{}.state_dir.string();
  std::string file;
  std::string namespace_ = "default";
  std::string name;
};

std::string read_text(const std::filesystem::path& path) {
  std::ifstream file(path);
  if (!file) throw CommandFailed("cannot read " + path.string());
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

// The cluster's chaos endpoint: a client and the path.
std::pair<std::unique_ptr<net::HttpClient>, std::string> endpoint(const std::string& state_dir) {
  const auto url_file = std::filesystem::path(state_dir) / "chaos.url";
  std::string url;
  std::ifstream(url_file) >> url;
  const auto path_at = url.find("/chaos");
  if (url.empty() || path_at == std::string::npos)
    throw CommandFailed(fmt::format("no local cluster in {} (no {}): `maestro local up` first", state_dir,
                                    url_file.string()));
  net::HttpClientOptions options;
  options.base_url = url.substr(0, path_at);
  options.retry.max_attempts = 1;
  return {std::make_unique<net::HttpClient>(options), url.substr(path_at)};
}

nlohmann::json answer_of(const net::HttpResult& response, const std::string& state_dir) {
  if (!response)
    throw CommandFailed(
        fmt::format("the local cluster in {} does not answer: {}", state_dir, response.error().message));
  const auto body = nlohmann::json::parse(response->body, nullptr, false);
  if (response->status != 200)
    throw CommandFailed(body.is_object() && body.contains("error") ? body["error"].get<std::string>()
                                                                   : response->body);
  return body;
}

void apply(const ChaosOptions& o) {
  const std::string text = read_text(o.file);
  if (auto parsed = local::parse_chaos(text); !parsed)
    throw CLI::ValidationError("FILE", o.file + ": " + parsed.error().message);
  auto [client, path] = endpoint(o.state_dir);
  const auto answer = answer_of(client->post(path, text, "application/yaml"), o.state_dir);
  for (const auto& applied : answer["applied"]) std::cout << applied.get<std::string>() << " applied\n";
}

void list(const ChaosOptions& o) {
  auto [client, path] = endpoint(o.state_dir);
  const auto answer = answer_of(client->get(path), o.state_dir);
  for (const auto& schedule : answer["schedules"]) std::cout << schedule.get<std::string>() << "\n";
  for (const auto& injection : answer["injections"])
    std::cout << fmt::format("{} {} pod {} at {:%Y-%m-%dT%H:%M:%SZ}{}\n",
                             injection["kind"].get<std::string>(), injection["experiment"].get<std::string>(),
                             injection["pod"].get<std::string>(),
                             fmt::gmtime(static_cast<std::time_t>(injection["at"].get<double>())),
                             injection["active"].get<bool>() ? " (active)" : "");
}

void remove(const ChaosOptions& o) {
  auto [client, path] = endpoint(o.state_dir);
  net::Request request;
  request.method = "DELETE";
  request.path =
      fmt::format("{}?namespace={}&name={}", path, net::url_encode(o.namespace_), net::url_encode(o.name));
  const auto answer = answer_of(client->send(request), o.state_dir);
  std::cout << answer["deleted"].get<std::string>() << " deleted\n";
}

const Registration kRegistration{
    "local chaos", [](CLI::App& maestro) {
      CLI::App& local = local_command(maestro);
      auto o = std::make_shared<ChaosOptions>();
      auto* chaos = local.add_subcommand(
          "chaos",
          "Chaos Mesh experiments (PodChaos pod-kill, StressChaos cpu, Schedule) on the local cluster");
      chaos->require_subcommand(1);
      chaos->fallthrough();  // --state-dir before or after the verb
      chaos->add_option("--state-dir", o->state_dir, "The state folder of the cluster `local up` runs")
          ->capture_default_str();
      auto* apply_command =
          chaos->add_subcommand("apply", "Apply a file of Chaos Mesh specs (kubectl apply -f)");
      apply_command->add_option("FILE", o->file, "YAML: PodChaos, StressChaos or Schedule documents")
          ->required()
          ->check(CLI::ExistingFile);
      apply_command->callback([o] { apply(*o); });
      chaos->add_subcommand("list", "Schedules, and the injections so far")->callback([o] { list(*o); });
      auto* delete_command =
          chaos->add_subcommand("delete", "End an experiment or schedule (kubectl delete)");
      delete_command->add_option("NAME", o->name, "metadata.name")->required();
      delete_command->add_option("--namespace", o->namespace_, "metadata.namespace")->capture_default_str();
      delete_command->callback([o] { remove(*o); });
    }};

}  // namespace
}  // namespace maestro::cli
