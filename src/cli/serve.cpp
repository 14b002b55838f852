// `maestro serve model|suggest`: the model server (services/model_server) or the suggestion server
// (services/suggestion_server), until SIGTERM or SIGINT. Each prints "listening on PORT" once it accepts
// connections.
#include <iostream>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "base/clock.hpp"
#include "cli/command.hpp"
#include "kube/client.hpp"
#include "kube/config.hpp"
#include "net/http_client.hpp"
#include "net/secret_file.hpp"
#include "prom/credentials.hpp"
#include "prom/query_client.hpp"
#include "prom/state_builder.hpp"
#include "services/model_server/model_server.hpp"
#include "services/model_server/nn_policy.hpp"
#include "services/suggestion_server/kube_deployment_source.hpp"
#include "services/suggestion_server/model_client.hpp"
#include "services/suggestion_server/suggestion_server.hpp"

namespace maestro::cli {
namespace {

bool is_http_url(const std::string& url) {
  return url.starts_with("http://") || url.starts_with("https://");
}

struct KubernetesFlags {
  std::string server;  // plain URL …
  std::string token_file;
  std::string ca_file;
  std::string kubeconfig;  // … or a kubeconfig …
  std::string context;
  bool in_cluster = false;  // … or the pod's service account
};

Result<kube::ClusterConfig> cluster_config(const KubernetesFlags& flags) {
  if (flags.in_cluster) return kube::in_cluster_config();
  if (!flags.kubeconfig.empty()) return kube::load_kubeconfig(flags.kubeconfig, flags.context);
  kube::ClusterConfig plain;
  plain.server = flags.server;
  plain.token_file = flags.token_file;
  plain.tls.ca_file = flags.ca_file;
  return plain;
}

constexpr const char* kListenHelp =
    "Address to serve on (HOST:PORT; port 0 picks one). Loopback unless told otherwise: in a pod, "
    "0.0.0.0:PORT";

// The token file at `path`, re-read every minute; none for an empty path.
std::shared_ptr<net::TokenFile> token_file(const std::string& path, const base::Clock& clock) {
  return path.empty() ? nullptr : std::make_shared<net::TokenFile>(path, clock);
}

// A client's bearer token from `file`; none (no Authorization header) without a file.
net::TokenProvider token_provider(std::shared_ptr<net::TokenFile> file) {
  if (!file) return nullptr;
  return [file] { return file->token(); };
}

struct ModelFlags {
  std::string policy;
  std::string listen = "127.0.0.1:8080";
  std::string auth_token_file;
  int io_threads = 1;
  int watch_interval_ms = 1000;
};

void add_model(CLI::App& serve) {
  auto flags = std::make_shared<ModelFlags>();
  auto* model =
      serve.add_subcommand("model", "Serve POST /predict: the action of a policy file for an observation");
  model->add_option("--policy", flags->policy, "Policy file (reloaded on SIGHUP and when it changes)")
      ->required()
      ->check(CLI::ExistingFile);
  model->add_option("--listen", flags->listen, kListenHelp)->capture_default_str();
  model
      ->add_option("--auth-token-file", flags->auth_token_file,
                   "Require Authorization: Bearer <this file's token> on /predict and /policy (re-read every "
                   "minute; /healthz, /readyz, /metrics stay open)")
      ->check(CLI::ExistingFile);
  model->add_option("--io-threads", flags->io_threads, "Threads serving connections")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  model->add_option("--watch-interval-ms", flags->watch_interval_ms, "How often to check the file; 0: never")
      ->check(CLI::Range(0, 3'600'000))
      ->capture_default_str();
  model->callback([flags] {
    if (auto listen = net::parse_listen_address(flags->listen); !listen)
      throw CLI::ValidationError("--listen", listen.error().message);
    base::RealClock clock;
    model_server::ModelServer server(model_server::ModelServerOptions{
        .policy_file = flags->policy,
        .loader = model_server::load_policy_file,
        .http = {.io_threads = flags->io_threads,
                 .max_body_bytes = 64 * 1024,
                 .bearer_token = token_file(flags->auth_token_file, clock)},
        .watch_interval = flags->watch_interval_ms > 0
                              ? std::optional(std::chrono::milliseconds(flags->watch_interval_ms))
                              : std::nullopt});
    if (auto loaded = server.load(); !loaded) throw CommandFailed(loaded.error().message);
    auto port = server.listen(flags->listen);
    if (!port) throw CommandFailed(port.error().message);
    std::cout << "listening on " << *port << std::endl;
    server.run();
  });
}

struct SuggestFlags {
  std::string listen = "127.0.0.1:8081";
  std::string auth_token_file;
  std::string prometheus;
  std::string prometheus_basic_auth_file;
  std::string prometheus_bearer_token_file;
  std::string model;
  std::string model_token_file;
  KubernetesFlags kubernetes;
  std::string window = "1m";
  int max_sample_age_seconds = 120;
  int timeout_ms = 2000;
  int max_pending = 64;
  int request_budget_ms = 10'000;
  int step_seconds = 15;
  int forget_seconds = 120;
};

void add_suggest(CLI::App& serve) {
  auto flags = std::make_shared<SuggestFlags>();
  auto* suggest = serve.add_subcommand(
      "suggest",
      "Serve GET /suggest?deployment=&namespace=: observation from Prometheus, action from the model");
  suggest->add_option("--listen", flags->listen, kListenHelp)->capture_default_str();
  suggest
      ->add_option("--auth-token-file", flags->auth_token_file,
                   "Require Authorization: Bearer <this file's token> on /suggest (re-read every minute; "
                   "/healthz, /readyz, /metrics stay open)")
      ->check(CLI::ExistingFile);
  suggest->add_option("--prometheus", flags->prometheus, "Prometheus base URL, e.g. http://127.0.0.1:9090")
      ->required();
  auto* basic_auth =
      suggest
          ->add_option("--prometheus-basic-auth-file", flags->prometheus_basic_auth_file,
                       "File holding USER:PASSWORD for Prometheus (re-read every query; never in the URL)")
          ->check(CLI::ExistingFile);
  suggest
      ->add_option("--prometheus-bearer-token-file", flags->prometheus_bearer_token_file,
                   "File holding a bearer token for Prometheus (re-read every minute)")
      ->check(CLI::ExistingFile)
      ->excludes(basic_auth);
  suggest->add_option("--model", flags->model, "Model server base URL, e.g. http://127.0.0.1:8080")
      ->required();
  suggest
      ->add_option("--model-token-file", flags->model_token_file,
                   "File holding the bearer token the model server asks for (re-read every minute)")
      ->check(CLI::ExistingFile);
  auto* server = suggest->add_option("--kubernetes", flags->kubernetes.server, "Kubernetes API server URL");
  suggest
      ->add_option("--kube-token-file", flags->kubernetes.token_file,
                   "Bearer token file (re-read every minute)")
      ->needs(server);
  suggest->add_option("--kube-ca-file", flags->kubernetes.ca_file, "CA bundle of the API server")
      ->needs(server);
  auto* kubeconfig = suggest->add_option("--kubeconfig", flags->kubernetes.kubeconfig, "kubeconfig file")
                         ->excludes(server)
                         ->check(CLI::ExistingFile);
  suggest->add_option("--context", flags->kubernetes.context, "kubeconfig context (default: current)")
      ->needs(kubeconfig);
  suggest->add_flag("--in-cluster", flags->kubernetes.in_cluster, "Use the pod's service account")
      ->excludes(server)
      ->excludes(kubeconfig);
  suggest->add_option("--window", flags->window, "Rate window of the queries (PromQL duration)")
      ->capture_default_str();
  suggest
      ->add_option("--max-sample-age", flags->max_sample_age_seconds,
                   "A pod whose newest sample is older than this many seconds does not report")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  suggest
      ->add_option("--timeout-ms", flags->timeout_ms,
                   "Timeout of each call to Prometheus, Kubernetes, the model")
      ->check(CLI::Range(10, 600000))
      ->capture_default_str();
  suggest
      ->add_option(
          "--max-pending", flags->max_pending,
          "Requests waiting for or making a decision at once; more are answered 503 with Retry-After")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  suggest
      ->add_option(
          "--request-budget-ms", flags->request_budget_ms,
          "The longest a request is worked on (a caller's X-Request-Timeout-Ms may ask less); then 503")
      ->check(CLI::Range(10, 600000))
      ->capture_default_str();
  suggest
      ->add_option("--step-seconds", flags->step_seconds,
                   "The control interval: a deployment's history advances at most once per step")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  suggest
      ->add_option("--forget-seconds", flags->forget_seconds,
                   "A deployment not asked about for this long starts its history again")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();

  suggest->callback([flags] {
    for (const auto& [flag, url] :
         {std::pair{"--prometheus", &flags->prometheus}, std::pair{"--model", &flags->model},
          std::pair{"--kubernetes", &flags->kubernetes.server}}) {
      if (url->empty() && std::string_view(flag) == "--kubernetes") continue;
      if (!is_http_url(*url)) throw CLI::ValidationError(flag, "must be an http(s) URL");
      if (auto refused = prom::refuse_credentials_in_url(*url, "URL"); !refused)
        throw CLI::ValidationError(flag, refused.error().message);
    }
    if (flags->kubernetes.server.empty() && flags->kubernetes.kubeconfig.empty() &&
        !flags->kubernetes.in_cluster)
      throw CLI::ValidationError("--kubernetes",
                                 "say where the Kubernetes API is: --kubernetes URL, --kubeconfig "
                                 "FILE or --in-cluster");
    auto listen = net::parse_listen_address(flags->listen);
    if (!listen) throw CLI::ValidationError("--listen", listen.error().message);
    auto state_options = prom::StateBuilder::validate(
        prom::StateBuilderOptions{.window = flags->window,
                                  .templates = prom::default_templates(),
                                  .max_sample_age = std::chrono::seconds(flags->max_sample_age_seconds)});
    if (!state_options) throw CLI::ValidationError("--window", state_options.error().message);

    const std::chrono::milliseconds timeout(flags->timeout_ms);
    base::RealClock clock;
    auto cluster = cluster_config(flags->kubernetes);
    if (!cluster) throw CommandFailed(fmt::format("kubernetes: {}", cluster.error().message));
    auto kube_options = kube::http_options(*cluster, clock);
    if (!kube_options) throw CommandFailed(fmt::format("kubernetes: {}", kube_options.error().message));
    kube_options->total_timeout = timeout;
    kube_options->retry.max_attempts = 2;
    kube::KubeClient kube(*kube_options);
    suggestion_server::KubeDeploymentSource deployments(kube);

    net::HttpClientOptions prometheus_options;
    prometheus_options.base_url = flags->prometheus;
    prometheus_options.total_timeout = timeout;
    prometheus_options.retry.max_attempts = 2;
    prometheus_options.bearer_token = token_provider(token_file(flags->prometheus_bearer_token_file, clock));
    net::HttpClient prometheus_http(prometheus_options);
    prom::PrometheusClientOptions prometheus_client_options;
    if (!flags->prometheus_basic_auth_file.empty()) {
      prometheus_client_options.authorization = [file = flags->prometheus_basic_auth_file] {
        return prom::basic_authorization(file);
      };
    }
    prom::PrometheusClient prometheus(prometheus_http, prometheus_client_options);
    prom::StateBuilder state_builder(prometheus, *state_options);

    net::HttpClientOptions model_options;
    model_options.base_url = flags->model;
    model_options.total_timeout = timeout;
    model_options.retry.max_attempts = 2;
    model_options.retry.retry_server_errors = false;
    model_options.bearer_token = token_provider(token_file(flags->model_token_file, clock));
    net::HttpClient model_http(model_options);
    suggestion_server::HttpModelClient model(model_http);

    suggestion_server::SuggestionServer server(
        deployments, state_builder, model, clock,
        {.http = {.io_threads = 1,
                  .max_body_bytes = 64 * 1024,
                  .bearer_token = token_file(flags->auth_token_file, clock)},
         .history = {.step_interval = std::chrono::seconds(flags->step_seconds),
                     .forget_after = std::chrono::seconds(flags->forget_seconds)},
         .request_budget = std::chrono::milliseconds(flags->request_budget_ms),
         .max_pending = flags->max_pending});
    auto port = server.listen(flags->listen);
    if (!port) throw CommandFailed(port.error().message);
    std::cout << "listening on " << *port << std::endl;
    spdlog::info("suggestion server on port {}: prometheus {}, model {}, window {}", *port,
                 prom::redact_credentials(flags->prometheus), prom::redact_credentials(flags->model),
                 flags->window);
    // Allowed (loopback, a development cluster) but never silent.
    for (const auto& warning : prom::transport_warnings("kubernetes", *kube_options))
      spdlog::warn("{}", warning);
    for (const auto& warning : prom::transport_warnings("prometheus", prometheus_options,
                                                        !flags->prometheus_basic_auth_file.empty()))
      spdlog::warn("{}", warning);
    for (const auto& warning : prom::transport_warnings("model server", model_options))
      spdlog::warn("{}", warning);
    server.run();
  });
}

const Registration kRegistration{"serve", [](CLI::App& maestro) {
                                   auto* serve =
                                       maestro.add_subcommand("serve", "Run one of MAESTRO's services");
                                   serve->require_subcommand(1);
                                   add_model(*serve);
                                   add_suggest(*serve);
                                 }};

}  // namespace
}  // namespace maestro::cli
