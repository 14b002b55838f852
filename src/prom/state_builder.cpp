#include "prom/state_builder.hpp"

#include <cctype>
#include <regex>

namespace maestro::prom {

namespace {

constexpr std::string_view kContainerFilter = R"(container!="",container!="POD")";
// Kubernetes' SafeEncodeString alphabet (k8s.io/apimachinery/pkg/util/rand), used for pod-template hashes
// and pod-name suffixes.
constexpr std::string_view kPodHashAlphabet = "[bcdfghjklmnpqrstvwxz2456789]";

}  // namespace

QueryTemplates default_templates() {
  const std::string pods = R"(namespace="$namespace",pod=~"$pods")";
  return QueryTemplates{
      .cpu_usage = fmt::format("sum(rate(container_cpu_usage_seconds_total{{{},{}}}[$window])) * 100", pods,
                               kContainerFilter),
      .memory_usage = fmt::format("sum(last_over_time(container_memory_working_set_bytes{{{},{}}}[$window]))",
                                  pods, kContainerFilter),
      .latency = fmt::format("histogram_quantile(0.95, sum by (le) "
                             "(rate(http_request_duration_seconds_bucket{{{}}}[$window]))) * 1000",
                             pods),
      .rps = fmt::format("sum(rate(http_requests_total{{{}}}[$window]))", pods),
  };
}

std::string default_pod_regex(std::string_view deployment) {
  std::string escaped;
  for (char c : deployment) {
    // '.' is the only regex metacharacter a Kubernetes name can hold; "\\." is a literal dot once PromQL has
    // unescaped its string.
    if (c == '.')
      escaped += "\\\\.";
    else
      escaped += c;
  }
  return fmt::format("{}-{}{{1,10}}-{}{{5}}", escaped, kPodHashAlphabet, kPodHashAlphabet);
}

bool is_kubernetes_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) return false;
  for (char c : name)
    if (!alnum(c) && c != '-' && c != '.') return false;
  return true;
}

bool is_promql_duration(std::string_view window) {
  static const std::regex kDuration("([0-9]+(ms|s|m|h|d|w|y))+");
  return std::regex_match(window.begin(), window.end(), kDuration);
}

Result<std::string> render_template(std::string_view query_template, const DeploymentRef& deployment,
                                    std::string_view window) {
  if (!is_kubernetes_name(deployment.namespace_name))
    return fail("namespace '{}' is not a valid Kubernetes name", deployment.namespace_name);
  if (!is_kubernetes_name(deployment.name))
    return fail("deployment '{}' is not a valid Kubernetes name", deployment.name);
  if (deployment.pods && deployment.pods->find('"') != std::string::npos)
    return fail("pod regex '{}' must not contain '\"'", *deployment.pods);
  const std::string pods = deployment.pods.value_or(default_pod_regex(deployment.name));

  std::string rendered;
  for (std::size_t i = 0; i < query_template.size();) {
    if (query_template[i] != '$') {
      rendered += query_template[i++];
      continue;
    }
    std::size_t end = i + 1;
    while (end < query_template.size() &&
           (std::isalnum(static_cast<unsigned char>(query_template[end])) || query_template[end] == '_'))
      ++end;
    const std::string_view placeholder = query_template.substr(i + 1, end - i - 1);
    if (placeholder == "namespace")
      rendered += deployment.namespace_name;
    else if (placeholder == "deployment")
      rendered += deployment.name;
    else if (placeholder == "pods")
      rendered += pods;
    else if (placeholder == "window")
      rendered += window;
    else
      return fail(
          "query template has an unknown placeholder '${}' (known: $namespace, $deployment, $pods, $window)",
          placeholder);
    i = end;
  }
  return rendered;
}

StateBuilder::StateBuilder(MetricsSource& source, StateBuilderOptions options)
    : source_(source), options_(std::move(options)) {}

Result<StateBuilderOptions> StateBuilder::validate(StateBuilderOptions options) {
  if (!is_promql_duration(options.window))
    return fail("window '{}' is not a PromQL duration (e.g. 30s, 1m)", options.window);
  for (const auto* query : {&options.templates.cpu_usage, &options.templates.memory_usage,
                            &options.templates.latency, &options.templates.rps})
    if (query->empty()) return fail("every metric needs a query template");
  return options;
}

Result<BuiltState> StateBuilder::build(const DeploymentRef& deployment,
                                       const std::function<bool()>& abandoned) {
  if (deployment.replicas < 0) return fail("replicas ({}) must not be negative", deployment.replicas);
  const QueryTemplates& defaults = options_.templates;
  const QueryTemplates own = deployment.templates.value_or(QueryTemplates{});
  const auto pick = [](const std::string& override_query, const std::string& fallback) -> const std::string& {
    return override_query.empty() ? fallback : override_query;
  };
  const std::array<const std::string*, 4> templates = {
      &pick(own.cpu_usage, defaults.cpu_usage), &pick(own.memory_usage, defaults.memory_usage),
      &pick(own.latency, defaults.latency), &pick(own.rps, defaults.rps)};
  static constexpr std::array<std::string_view, 4> kMetrics = {"cpu_usage", "memory_usage", "latency", "rps"};

  BuiltState state;
  std::array<QueryResult<double>, 4> answers;
  for (std::size_t i = 0; i < templates.size(); ++i) {
    auto query = render_template(*templates[i], deployment, options_.window);
    if (!query) return fail("{}: {}", kMetrics[i], query.error().message);
    if (abandoned && abandoned())
      return fail("{} of {}/{}: abandoned: every caller's deadline passed", kMetrics[i],
                  deployment.namespace_name, deployment.name);
    answers[i] = source_.value(*query);
    if (!answers[i] && answers[i].error().kind == QueryErrorKind::kUnreachable)
      return fail("{} of {}/{}: {}", kMetrics[i], deployment.namespace_name, deployment.name,
                  answers[i].error().message);
    state.queries[i] = std::move(*query);
  }
  // A deployment that served no requests in the window has no p95 (the histogram's rate is 0/0), yet it is
  // measured: no request was slow. Only a measured zero rps makes a missing latency 0 ms; otherwise it stays
  // no data, so an idle deployment can still be scaled down while a broken histogram cannot pass for fast.
  constexpr std::size_t kLatency = 2, kRps = 3;
  if (!answers[kLatency] && answers[kLatency].error().kind == QueryErrorKind::kNoData && answers[kRps] &&
      *answers[kRps] == 0)
    answers[kLatency] = 0.0;
  std::array<double, 4> values{};
  for (std::size_t i = 0; i < answers.size(); ++i) {
    if (!answers[i])
      return fail("{} of {}/{}: {}", kMetrics[i], deployment.namespace_name, deployment.name,
                  answers[i].error().message);
    values[i] = *answers[i];
  }
  state.observation = core::Observation{.cpu_usage = values[0],
                                        .memory_usage = values[1],
                                        .replicas = static_cast<double>(deployment.replicas),
                                        .latency = values[2],
                                        .rps = values[3]};
  // Infinite or negative numbers (a histogram whose p95 lies in the +Inf bucket, a broken template) are no
  // observation either.
  if (auto valid = core::validate(state.observation); !valid)
    return fail("{}/{}: {}", deployment.namespace_name, deployment.name, valid.error().message);
  return state;
}

}  // namespace maestro::prom
