#include "prom/state_builder.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <future>
#include <regex>

#include <nlohmann/json.hpp>

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
      .pods_reporting =
          fmt::format("max by (pod) (time() - timestamp(container_cpu_usage_seconds_total{{{0},{1}}}) "
                      "or time() - timestamp(http_requests_total{{{0}}})) "
                      "and on (pod) max by (pod) (timestamp(container_cpu_usage_seconds_total{{{0},{1}}})) "
                      "and on (pod) max by (pod) (timestamp(http_requests_total{{{0}}}))",
                      pods, kContainerFilter),
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

std::string pod_names_regex(const std::vector<std::string>& names) {
  std::string regex;
  for (const std::string& name : names) {
    if (!regex.empty()) regex += '|';
    for (const char c : name) {
      if (c == '.') regex += "\\\\";  // PromQL's string "\\." is the regex \.
      regex += c;
    }
  }
  return regex;
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

Result<QueryTemplates> templates_from_json(const nlohmann::json& queries, std::string_view where) {
  if (!queries.is_object()) return fail("{}: must be an object", where);
  QueryTemplates templates;
  const std::pair<const char*, std::string*> fields[] = {{"cpuUsage", &templates.cpu_usage},
                                                         {"memoryUsage", &templates.memory_usage},
                                                         {"latency", &templates.latency},
                                                         {"rps", &templates.rps},
                                                         {"podsReporting", &templates.pods_reporting}};
  for (const auto& [key, value] : queries.items()) {
    const auto field = std::ranges::find_if(fields, [&](const auto& f) { return key == f.first; });
    if (field == std::end(fields)) return fail("{}: unknown field \"{}\"", where, key);
    if (!value.is_string() || value.get<std::string>().empty())
      return fail("{}.{}: must be a non-empty string", where, key);
    const std::string text = value.get<std::string>();
    if (text.size() > kMaxTemplateBytes)
      return fail("{}.{}: longer than {} bytes", where, key, kMaxTemplateBytes);
    // Rendered once for a stand-in deployment: an unknown placeholder fails here, not at the first decision.
    DeploymentRef stand_in;
    stand_in.namespace_name = "default";
    stand_in.name = "web";
    if (text != kNoPodsCheck)
      if (auto rendered = render_template(text, stand_in, "1m"); !rendered)
        return fail("{}.{}: {}", where, key, rendered.error().message);
    *field->second = text;
  }
  return templates;
}

StateBuilder::StateBuilder(MetricsSource& source, StateBuilderOptions options)
    : source_(source), options_(std::move(options)) {}

Result<StateBuilderOptions> StateBuilder::validate(StateBuilderOptions options) {
  if (!is_promql_duration(options.window))
    return fail("window '{}' is not a PromQL duration (e.g. 30s, 1m)", options.window);
  for (const auto* query :
       {&options.templates.cpu_usage, &options.templates.memory_usage, &options.templates.latency,
        &options.templates.rps, &options.templates.pods_reporting})
    if (query->empty()) return fail("every metric needs a query template");
  return options;
}

Result<int> StateBuilder::pods_reporting(const DeploymentRef& deployment, const std::string& query_template) {
  if (query_template == kNoPodsCheck) return 0;
  auto query = render_template(query_template, deployment, options_.window);
  if (!query) return fail("pods reporting: {}", query.error().message);
  auto ages = source_.samples(*query);
  if (!ages)
    return fail("pods reporting of {}/{}: {}", deployment.namespace_name, deployment.name,
                ages.error().message);
  const double max_age = static_cast<double>(options_.max_sample_age.count());
  int fresh = 0, stale = 0;
  double stalest = 0;
  for (const Sample& pod : *ages) {
    if (pod.value <= max_age) {
      ++fresh;
    } else {  // NaN counts as stale too: an age that cannot be told is no evidence of fresh data
      ++stale;
      if (!std::isnan(pod.value)) stalest = std::max(stalest, pod.value);
    }
  }
  const int required = std::max(1, deployment.ready_replicas.value_or(1));
  if (fresh >= required) return fresh;
  if (ages->empty())
    return fail("no data: no pod of {}/{} reports every metric source", deployment.namespace_name,
                deployment.name);
  const std::string stale_part =
      stale == 0 ? ""
                 : fmt::format("; {} stale (newest sample {:.0f} s old, stale after {} s)", stale, stalest,
                               options_.max_sample_age.count());
  return fail(
      "partial data: {} of {} ready pods of {}/{} report fresh metrics{}; holding rather than deciding "
      "on part of the deployment",
      fresh, required, deployment.namespace_name, deployment.name, stale_part);
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
  if (abandoned && abandoned())
    return fail("{}/{}: abandoned: every caller's deadline passed", deployment.namespace_name,
                deployment.name);
  auto reporting = pods_reporting(deployment, pick(own.pods_reporting, defaults.pods_reporting));
  if (!reporting) return std::unexpected(reporting.error());
  state.pods_reporting = *reporting;

  for (std::size_t i = 0; i < templates.size(); ++i) {
    auto query = render_template(*templates[i], deployment, options_.window);
    if (!query) return fail("{}: {}", kMetrics[i], query.error().message);
    state.queries[i] = std::move(*query);
  }
  if (abandoned && abandoned())
    return fail("{}/{}: abandoned: every caller's deadline passed", deployment.namespace_name,
                deployment.name);
  // The four at once: an observation takes as long as its slowest query, not their sum.
  std::array<std::future<QueryResult<double>>, 4> pending;
  for (std::size_t i = 0; i < pending.size(); ++i)
    pending[i] =
        std::async(std::launch::async, [this, &state, i] { return source_.value(state.queries[i]); });
  std::array<QueryResult<double>, 4> answers;
  for (std::size_t i = 0; i < pending.size(); ++i) answers[i] = pending[i].get();
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
