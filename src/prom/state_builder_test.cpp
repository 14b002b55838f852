// Tests of the StateBuilder with a scripted MetricsSource: templates, placeholders, and that any missing
// metric fails the whole observation.
#include "prom/state_builder.hpp"

#include <map>
#include <regex>

#include <gtest/gtest.h>

namespace maestro::prom {
namespace {

// Answers each query by the first scripted fragment it contains.
class ScriptedSource final : public MetricsSource {
 public:
  std::vector<std::pair<std::string, QueryResult<double>>> answers;
  std::vector<std::string> asked;

  QueryResult<double> value(std::string_view promql) override {
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
      source.asked[0],
      R"(sum(rate(container_cpu_usage_seconds_total{namespace="shop",pod=~"web-[bcdfghjklmnpqrstvwxz2456789]{1,10}-[bcdfghjklmnpqrstvwxz2456789]{5}",container!="",container!="POD"}[30s])) * 100)");
  EXPECT_NE(source.asked[2].find(
                "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{"),
            std::string::npos);
  EXPECT_NE(source.asked[2].find("* 1000"), std::string::npos);
  EXPECT_EQ(state->queries[3], source.asked[3]);
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
  EXPECT_EQ(source.asked[0], R"(my_cpu{ns="shop",d="web"})");
  EXPECT_NE(source.asked[1].find("container_memory_working_set_bytes"), std::string::npos);  // default kept
  EXPECT_EQ(source.asked[2], R"(my_p95{pods=~"web-.*"}[1m])");
  EXPECT_DOUBLE_EQ(state->observation.rps, 4);
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
