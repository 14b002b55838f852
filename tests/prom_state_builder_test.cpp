// The StateBuilder against a real Prometheus scraping the sample target app under a known load: its rps and
// p95 match what the client sent and measured, and its CPU and memory match what the target process used
// (read from /proc by a cAdvisor stand-in that also serves the series the queries must leave out).
#include <iostream>

#include <gtest/gtest.h>

#include "prom/state_builder.hpp"
#include "support/monitored_target_app.hpp"
#include "support/prometheus_container_exporter.hpp"
#include "support/prometheus_server.hpp"
#include "support/target_app_load.hpp"
#include "support/target_app_process.hpp"

namespace maestro {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kNamespace = "shop";
constexpr const char* kPod = "web-5d8f7c9b4-x7k2p";

struct CpuReading {
  Clock::time_point at;
  double seconds;
};

class PromStateBuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto monitored = testing::MonitoredTargetApp::start(
        {"--cpu-ms", "2", "--memory-kb", "256", "--workers", "8"}, kNamespace, kPod);
    ASSERT_TRUE(monitored.has_value()) << monitored.error().message;
    app_ = std::move(monitored->app);
    exporter_ = std::move(monitored->exporter);
    prometheus_ = std::move(monitored->prometheus);
    // Prometheus scrapes a few seconds after it is ready (its discovery updates are batched): wait for both
    // targets, so that the load's whole window is scraped.
    auto up = prometheus_->wait_for_value(
        "sum(up)", [](double v) { return v == 2; }, 30s);
    ASSERT_TRUE(up.has_value()) << up.error().message;
  }

  std::unique_ptr<testing::TargetApp> app_;
  std::unique_ptr<testing::ContainerMetricsExporter> exporter_;
  std::unique_ptr<testing::PrometheusServer> prometheus_;
};

TEST_F(PromStateBuilderTest, ObservationMatchesTheLoadSentAndTheResourcesUsed) {
  constexpr auto kWindow = 10s;
  // Two clients at 20 requests/s each; request i waits 1 + (i mod 40) ms, so latencies spread evenly over
  // 1..40 ms plus 2 ms of CPU: a p95 near 40 ms that a histogram with 10 ms buckets can place well.
  testing::LoadGenerator load(
      {.base_url = fmt::format("http://127.0.0.1:{}", app_->port),
       .clients = 2,
       .requests_per_second_per_client = 20,
       .max_duration = 60s,
       .path = [](std::size_t i) { return fmt::format("/work?wait_ms={}", 1 + i % 40); }});
  std::vector<CpuReading> cpu;
  const auto load_started = Clock::now();
  load.start();

  // Sample the target's CPU every 250 ms until one window and three scrapes have passed under load.
  while (Clock::now() < load_started + kWindow + 3s) {
    cpu.push_back({Clock::now(), testing::process_cpu_seconds(app_->process.pid())});
    std::this_thread::sleep_for(250ms);  // sampling at a fixed rate, not waiting for a condition
  }

  prom::StateBuilder builder(prometheus_->client(),
                             {.window = "10s", .templates = prom::default_templates()});
  const prom::DeploymentRef web{
      .namespace_name = kNamespace, .name = "web", .replicas = 1, .templates = {}, .pods = {}};
  const auto asked = Clock::now();
  auto state = builder.build(web);
  const double resident = testing::process_resident_bytes(app_->process.pid());
  cpu.push_back({Clock::now(), testing::process_cpu_seconds(app_->process.pid())});
  load.stop();
  ASSERT_TRUE(state.has_value()) << state.error().message;
  const core::Observation& observed = state->observation;

  // What the client saw over the same window.
  const auto in_window = testing::finished_between(load.completed(), asked - kWindow, asked);
  const double client_rps =
      static_cast<double>(in_window.size()) / std::chrono::duration<double>(kWindow).count();
  const double client_p95_ms = testing::latency_quantile(in_window, 0.95) * 1000;
  for (const auto& request : in_window) ASSERT_EQ(request.status, 200);

  std::cout << fmt::format(
      "observed rps {:.1f} p95 {:.1f} ms cpu {:.1f} % memory {:.0f} B; client rps {:.1f} p95 {:.1f} ms\n",
      observed.rps, observed.latency, observed.cpu_usage, observed.memory_usage, client_rps, client_p95_ms);
  EXPECT_NEAR(observed.rps, client_rps, 0.15 * client_rps) << "client sent " << client_rps << " req/s";
  EXPECT_NEAR(observed.latency, client_p95_ms, 0.15 * client_p95_ms)
      << "client p95 " << client_p95_ms << " ms";
  EXPECT_DOUBLE_EQ(observed.replicas, 1);

  // CPU as the target process used it over the window, in percent of one core.
  const auto window_start =
      std::ranges::find_if(cpu, [&](const CpuReading& r) { return r.at >= asked - kWindow; });
  ASSERT_NE(window_start, cpu.end());
  const double used_percent = 100 * (cpu.back().seconds - window_start->seconds) /
                              std::chrono::duration<double>(cpu.back().at - window_start->at).count();
  EXPECT_NEAR(observed.cpu_usage, used_percent, 0.25 * used_percent + 2)
      << "process used " << used_percent << " %";
  // The decoy series (pod cgroup, pause container, another deployment) would add gigabytes.
  EXPECT_NEAR(observed.memory_usage, resident, 0.25 * resident)
      << "process resident " << resident << " bytes";
}

TEST_F(PromStateBuilderTest, NoDataIsAnErrorNeverZero) {
  prom::StateBuilder builder(prometheus_->client());
  auto unknown = builder.build(
      {.namespace_name = kNamespace, .name = "api", .replicas = 2, .templates = {}, .pods = {}});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message.find("no data"), std::string::npos) << unknown.error().message;

  auto nan = prometheus_->client().value("0 / 0");
  ASSERT_FALSE(nan.has_value());
  EXPECT_EQ(nan.error().kind, prom::QueryErrorKind::kNoData);

  auto empty = prometheus_->client().value(R"(sum(http_requests_total{namespace="nowhere"}))");
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().kind, prom::QueryErrorKind::kNoData);

  auto bad = prometheus_->client().value("sum(rate(http_requests_total[1m])");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().kind, prom::QueryErrorKind::kRejected);
  EXPECT_NE(bad.error().message.find("parse error"), std::string::npos) << bad.error().message;
}

// A target that stops being scraped: Prometheus marks its series stale and timestamp() no longer finds them,
// while rate() over the window goes on answering from the old samples. The observation is refused within a
// few scrapes, not a window later; and a deployment with more ready replicas than pods reporting is refused
// at once.
TEST_F(PromStateBuilderTest, RefusesStaleAndPartialData) {
  prom::StateBuilder builder(
      prometheus_->client(),
      {.window = "1m", .templates = prom::default_templates(), .max_sample_age = std::chrono::seconds(10)});
  prom::DeploymentRef web{.namespace_name = kNamespace,
                          .name = "web",
                          .replicas = 1,
                          .templates = {},
                          .pods = {},
                          .ready_replicas = 1};
  // The app's request counter exists once it has served a request.
  testing::LoadGenerator load({.base_url = fmt::format("http://127.0.0.1:{}", app_->port),
                               .clients = 1,
                               .requests_per_second_per_client = 10,
                               .max_duration = 60s,
                               .path = [](std::size_t) { return std::string("/work?wait_ms=1"); }});
  load.start();
  auto state = builder.build(web);
  for (const auto until = Clock::now() + 30s; !state && Clock::now() < until; state = builder.build(web))
    std::this_thread::sleep_for(250ms);  // polling until two scrapes fill the rate window, with a deadline
  ASSERT_TRUE(state.has_value()) << state.error().message;
  EXPECT_EQ(state->pods_reporting, 1);

  web.ready_replicas = 2;
  auto partial = builder.build(web);
  ASSERT_FALSE(partial.has_value());
  EXPECT_NE(partial.error().message.find("partial data: 1 of 2 ready pods"), std::string::npos)
      << partial.error().message;
  web.ready_replicas = 1;

  exporter_.reset();  // cAdvisor stops answering: its targets' series go stale
  const auto stopped = Clock::now();
  for (const auto until = stopped + 30s; state && Clock::now() < until; state = builder.build(web))
    std::this_thread::sleep_for(250ms);  // polling for the refusal, with a deadline
  load.stop();
  ASSERT_FALSE(state.has_value()) << "still deciding on a target no longer scraped";
  std::cout << fmt::format("refused {:.1f} s after the exporter stopped: {}\n",
                           std::chrono::duration<double>(Clock::now() - stopped).count(),
                           state.error().message);
  EXPECT_NE(state.error().message.find("report"), std::string::npos) << state.error().message;
}

}  // namespace
}  // namespace maestro
