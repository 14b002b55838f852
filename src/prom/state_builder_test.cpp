// Tests of the StateBuilder with a scripted MetricsSource: templates, placeholders, and that any missing
// metric fails the whole observation.
#include "prom/state_builder.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <regex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace maestro::prom {
namespace {

// Answers each query by the first scripted fragment it contains.
class ScriptedSource final : public MetricsSource {
 public:
  std::vector<std::pair<std::string, QueryResult<double>>> answers;
  std::vector<std::string> asked;

  // The pods-reporting query: this many pods, each with a sample this many seconds old.
  int pods = 3;
  double pod_age_seconds = 5;
  std::vector<std::string> asked_samples;
  std::mutex mutex;

  QueryResult<std::vector<Sample>> samples(std::string_view promql) override {
    asked_samples.emplace_back(promql);
    std::vector<Sample> ages;
    for (int i = 0; i < pods; ++i)
      ages.push_back(
          Sample{.labels = {{"pod", fmt::format("web-1-{}", i)}}, .timestamp = 0, .value = pod_age_seconds});
    return ages;
  }
  QueryResult<double> value(std::string_view promql) override {
    std::lock_guard lock(mutex);  // the builder asks its four queries at once
    asked.emplace_back(promql);
    for (const auto& [fragment, answer] : answers)
      if (promql.find(fragment) != std::string_view::npos) return answer;
    QueryError error;
    error.kind = QueryErrorKind::kNoData;
    error.message = "no data: the query matched no series";
    return std::unexpected(error);
  }
};

DeploymentRef web() {
  return DeploymentRef{.namespace_name = "shop", .name = "web", .replicas = 3, .templates = {}, .pods = {}};
}

TEST(StateBuilder, BuildsTheObservationFromTheFourDefaultQueries) {
  ScriptedSource source;
  source.answers = {{"container_cpu_usage_seconds_total", 150.0},
                    {"container_memory_working_set_bytes", 3e8},
                    {"http_request_duration_seconds_bucket", 42.0},
                    {"http_requests_total", 120.0}};
  StateBuilder builder(source, StateBuilderOptions{.window = "30s", .templates = default_templates()});
  auto state = builder.build(web());
  ASSERT_TRUE(state.has_value()) << state.error().message;
  EXPECT_DOUBLE_EQ(state->observation.cpu_usage, 150);
  EXPECT_DOUBLE_EQ(state->observation.memory_usage, 3e8);
  EXPECT_DOUBLE_EQ(state->observation.replicas, 3);
  EXPECT_DOUBLE_EQ(state->observation.latency, 42);
  EXPECT_DOUBLE_EQ(state->observation.rps, 120);
  ASSERT_EQ(source.asked.size(), 4u);
  EXPECT_EQ(
      state->queries[0],
      R"(sum(rate(container_cpu_usage_seconds_total{namespace="shop",pod=~"web-[bcdfghjklmnpqrstvwxz2456789]{1,10}-[bcdfghjklmnpqrstvwxz2456789]{5}",container!="",container!="POD"}[30s])) * 100)");
  EXPECT_NE(state->queries[2].find(
                "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{"),
            std::string::npos);
  EXPECT_NE(state->queries[2].find("* 1000"), std::string::npos);
  EXPECT_NE(std::ranges::find(source.asked, state->queries[3]), source.asked.end());
}

TEST(StateBuilder, AnyMissingMetricFailsTheWholeObservationNamingIt) {
  ScriptedSource source;
  source.answers = {{"container_cpu_usage_seconds_total", 150.0},
                    {"container_memory_working_set_bytes", 3e8},
                    {"http_requests_total", 120.0}};  // no latency
  StateBuilder builder(source);
  auto state = builder.build(web());
  ASSERT_FALSE(state.has_value());
  EXPECT_NE(state.error().message.find("latency of shop/web: no data"), std::string::npos)
      << state.error().message;
}

TEST(StateBuilder, AnIdleDeploymentHasZeroLatencyRatherThanNoData) {
  ScriptedSource source;
  source.answers = {{"container_cpu_usage_seconds_total", 2.0},
                    {"container_memory_working_set_bytes", 3e8},
                    {"http_requests_total", 0.0}};  // no requests, so the p95 query has no data
  StateBuilder builder(source);
  auto state = builder.build(web());
  ASSERT_TRUE(state.has_value()) << state.error().message;
  EXPECT_DOUBLE_EQ(state->observation.latency, 0);
  EXPECT_DOUBLE_EQ(state->observation.rps, 0);
}

TEST(StateBuilder, MissingRpsAndLatencyStayNoData) {
  ScriptedSource source;
  source.answers = {{"container_cpu_usage_seconds_total", 2.0}, {"container_memory_working_set_bytes", 3e8}};
  StateBuilder builder(source);
  auto state = builder.build(web());
  ASSERT_FALSE(state.has_value());
  EXPECT_NE(state.error().message.find("latency of shop/web: no data"), std::string::npos)
      << state.error().message;
}

TEST(StateBuilder, RefusesInfiniteValues) {
  ScriptedSource source;
  source.answers = {{"container_cpu_usage_seconds_total", 1.0},
                    {"container_memory_working_set_bytes", 1.0},
                    {"http_request_duration_seconds_bucket", std::numeric_limits<double>::infinity()},
                    {"http_requests_total", 1.0}};
  StateBuilder builder(source);
  auto state = builder.build(web());
  ASSERT_FALSE(state.has_value());
  EXPECT_NE(state.error().message.find("latency is infinite"), std::string::npos) << state.error().message;
}

TEST(StateBuilder, UsesTheDeploymentsOwnTemplatesAndPods) {
  ScriptedSource source;
  source.answers = {
      {"my_cpu", 1.0}, {"container_memory", 2.0}, {"my_p95", 3.0}, {"http_requests_total", 4.0}};
  StateBuilder builder(source);
  DeploymentRef deployment = web();
  deployment.templates = QueryTemplates{.cpu_usage = R"(my_cpu{ns="$namespace",d="$deployment"})",
                                        .memory_usage = "",
                                        .latency = "my_p95{pods=~\"$pods\"}[$window]",
                                        .rps = ""};
  deployment.pods = "web-.*";
  auto state = builder.build(deployment);
  ASSERT_TRUE(state.has_value()) << state.error().message;
  EXPECT_EQ(state->queries[0], R"(my_cpu{ns="shop",d="web"})");
  EXPECT_NE(state->queries[1].find("container_memory_working_set_bytes"), std::string::npos);  // default kept
  EXPECT_EQ(state->queries[2], R"(my_p95{pods=~"web-.*"}[1m])");
  EXPECT_DOUBLE_EQ(state->observation.rps, 4);
}

// The four metrics sum over whichever pods reported: fewer pods with fresh samples than ready replicas is no
// observation (half the pods' requests would read as half the load, and the policy would scale down).
TEST(StateBuilder, RefusesWhenFewerPodsReportFreshSamplesThanAreReady) {
  ScriptedSource source;
  source.answers = {{"container_cpu_usage_seconds_total", 150.0},
                    {"container_memory_working_set_bytes", 3e8},
                    {"http_request_duration_seconds_bucket", 42.0},
                    {"http_requests_total", 120.0}};
  StateBuilder builder(source, StateBuilderOptions{.window = "1m",
                                                   .templates = default_templates(),
                                                   .max_sample_age = std::chrono::seconds(30)});
  DeploymentRef deployment = web();
  deployment.ready_replicas = 3;
  auto all = builder.build(deployment);
  ASSERT_TRUE(all.has_value()) << all.error().message;
  EXPECT_EQ(all->pods_reporting, 3);
  ASSERT_EQ(source.asked_samples.size(), 1u);
  EXPECT_NE(source.asked_samples[0].find("timestamp(container_cpu_usage_seconds_total{"), std::string::npos);
  EXPECT_NE(source.asked_samples[0].find("timestamp(http_requests_total{"), std::string::npos);

  source.pods = 2;  // one pod's targets are not scraped (yet, or any more)
  auto partial = builder.build(deployment);
  ASSERT_FALSE(partial.has_value());
  EXPECT_NE(partial.error().message.find("partial data: 2 of 3 ready pods of shop/web"), std::string::npos)
      << partial.error().message;
  EXPECT_EQ(source.asked.size(), 4u) << "the metrics were queried although too few pods report";

  source.pods = 3;
  source.pod_age_seconds = 95;  // scraped, but its newest samples are old (a stalled kubelet)
  auto stale = builder.build(deployment);
  ASSERT_FALSE(stale.has_value());
  EXPECT_NE(stale.error().message.find("3 stale (newest sample 95 s old, stale after 30 s)"),
            std::string::npos)
      << stale.error().message;

  source.pods = 0;
  auto none = builder.build(deployment);
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().message.find("no data: no pod of shop/web reports"), std::string::npos);

  // More pods reporting than ready (pods still starting) is fine; without ready replicas, one must report.
  source.pods = 4;
  source.pod_age_seconds = 1;
  EXPECT_TRUE(builder.build(deployment).has_value());
  deployment.ready_replicas.reset();
  source.pods = 1;
  EXPECT_TRUE(builder.build(deployment).has_value());
  // A deployment whose pods cannot be told apart in its metrics opts out by name.
  source.pods = 0;
  deployment.templates = QueryTemplates{
      .cpu_usage = "", .memory_usage = "", .latency = "", .rps = "", .pods_reporting = kNoPodsCheck};
  EXPECT_TRUE(builder.build(deployment).has_value());
}

TEST(RenderTemplate, RefusesUnknownPlaceholdersAndUnsafeNames) {
  auto unknown = render_template("rate(x[$windw])", web(), "1m");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message.find("$windw"), std::string::npos);

  DeploymentRef injected = web();
  injected.name = R"(web"} or vector(1) or x{a=")";
  EXPECT_FALSE(render_template("$deployment", injected, "1m").has_value());
  injected = web();
  injected.namespace_name = "Shop";
  EXPECT_FALSE(render_template("$namespace", injected, "1m").has_value());
  injected = web();
  injected.pods = "web\"}";
  EXPECT_FALSE(render_template("$pods", injected, "1m").has_value());
}

TEST(DefaultPodRegex, MatchesThisDeploymentsPodsOnly) {
  const std::regex pods(default_pod_regex("web"));
  EXPECT_TRUE(std::regex_match("web-5d8f7c9b4-x7k2p", pods));
  EXPECT_TRUE(std::regex_match("web-66b6c48dd5-zqw8v", pods));
  EXPECT_FALSE(std::regex_match("web-canary-5d8f7c9b4-x7k2p", pods));  // another deployment
  EXPECT_FALSE(std::regex_match("web-admin-x7k2p", pods));             // "admin" has vowels: not a hash
  EXPECT_FALSE(std::regex_match("webapp-5d8f7c9b4-x7k2p", pods));
  EXPECT_EQ(default_pod_regex("api.v2"),
            R"(api\\.v2-[bcdfghjklmnpqrstvwxz2456789]{1,10}-[bcdfghjklmnpqrstvwxz2456789]{5})");
}

TEST(PodNamesRegex, MatchesExactlyTheNamedPods) {
  const std::regex pods(pod_names_regex({"cache-0", "cache-1", "db.v2-0"}));
  EXPECT_TRUE(std::regex_match("cache-1", pods));
  EXPECT_FALSE(std::regex_match("cache-10", pods));
  EXPECT_EQ(pod_names_regex({"db.v2-0"}), R"(db\\.v2-0)") << "the regex's \\. inside a PromQL string";
  EXPECT_EQ(pod_names_regex({}), "");
}

TEST(TemplatesFromJson, ReadsAMaestroAutoscalersQueriesAndRefusesBadOnes) {
  const auto queries = nlohmann::json::parse(
      R"json({"rps": "sum(rate(r{pod=~\"$pods\"}[$window]))", "podsReporting": "none"})json");
  auto read = templates_from_json(queries, "spec.metrics.queries");
  ASSERT_TRUE(read.has_value()) << read.error().message;
  EXPECT_EQ(read->rps, R"(sum(rate(r{pod=~"$pods"}[$window])))");
  EXPECT_EQ(read->pods_reporting, kNoPodsCheck);
  EXPECT_TRUE(read->cpu_usage.empty()) << "one left out keeps the default";

  const auto refused = [](const std::string& text) {
    auto parsed = templates_from_json(nlohmann::json::parse(text), "q");
    return parsed ? std::string() : parsed.error().message;
  };
  EXPECT_EQ(refused(R"({"rps": "x[$windw]"})").rfind("q.rps: query template has an unknown placeholder", 0),
            0u);
  EXPECT_EQ(refused(R"({"requests": "x"})"), "q: unknown field \"requests\"");
  EXPECT_EQ(refused(R"({"latency": 5})"), "q.latency: must be a non-empty string");
  EXPECT_EQ(refused(R"(["rps"])"), "q: must be an object");
  EXPECT_NE(refused("{\"rps\": \"" + std::string(kMaxTemplateBytes + 1, 'x') + "\"}"), "");
}

TEST(StateBuilderOptions, ValidatesTheWindow) {
  EXPECT_TRUE(
      StateBuilder::validate(StateBuilderOptions{.window = "1m30s", .templates = default_templates()}));
  EXPECT_FALSE(
      StateBuilder::validate(StateBuilderOptions{.window = "1 minute", .templates = default_templates()}));
  EXPECT_FALSE(StateBuilder::validate(StateBuilderOptions{.window = "", .templates = default_templates()}));
}

TEST(IsKubernetesName, FollowsDns1123Subdomains) {
  EXPECT_TRUE(is_kubernetes_name("web"));
  EXPECT_TRUE(is_kubernetes_name("api.v2-blue"));
  EXPECT_FALSE(is_kubernetes_name("-web"));
  EXPECT_FALSE(is_kubernetes_name("Web"));
  EXPECT_FALSE(is_kubernetes_name("we b"));
  EXPECT_FALSE(is_kubernetes_name(std::string(254, 'a')));
}

}  // namespace
}  // namespace maestro::prom
