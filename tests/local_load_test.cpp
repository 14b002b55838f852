// `maestro load` against the sample target app: an open-model run sends what its plan asks and reports the
// rate and latency; a service too slow for the senders makes the generator fall behind, and it says so
// (exit 3) rather than quietly sending less.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "local/load_generator.hpp"
#include "support/target_app_process.hpp"

namespace maestro {
namespace {

using namespace std::chrono_literals;

TEST(LocalLoadTest, SendsEveryArrivalOfThePlanAndReportsLatency) {
  auto app = testing::TargetApp::start({"--cpu-ms", "0.2"});
  ASSERT_TRUE(app.has_value()) << app.error().message;
  const std::vector<local::LoadStage> stages = {{1s, 50}, {1s, 50}};
  const auto plan = local::plan_from_stages(stages);
  local::LoadOptions options;
  options.target = fmt::format("http://127.0.0.1:{}", app->port);
  options.concurrency = 8;
  const std::atomic<bool> stop{false};
  const auto report = local::run_load(plan, options, 42, stop);
  EXPECT_GT(report.asked, 60u);  // 75 expected
  EXPECT_LT(report.asked, 95u);
  EXPECT_EQ(report.sent, report.asked);
  EXPECT_EQ(report.ok, report.sent);
  EXPECT_GT(report.p50_ms, 0);
  EXPECT_LE(report.p50_ms, report.p95_ms);
  EXPECT_LE(report.p95_ms, report.max_ms);
  EXPECT_DOUBLE_EQ(report.duration_seconds, 2);
  EXPECT_NEAR(report.asked_rps, static_cast<double>(report.asked) / 2, 1e-9);
}

TEST(LocalLoadTest, SaysWhenItCouldNotKeepUp) {
  auto app = testing::TargetApp::start({"--wait-ms", "100", "--workers", "8"});
  ASSERT_TRUE(app.has_value()) << app.error().message;
  const auto folder = std::filesystem::temp_directory_path() / fmt::format("maestro-load-{}", ::getpid());
  std::filesystem::create_directories(folder);
  // One sender at 100 ms a request carries 10/s; 40/s are asked.
  const std::string command = fmt::format(
      "{}/maestro load --target http://127.0.0.1:{} --stages 500ms:40 --concurrency 1 --progress-seconds 100 "
      "--report {}/report.json > {}/out.txt 2>&1",
      MAESTRO_BINARY_DIR, app->port, folder.string(), folder.string());
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);
  std::ifstream out(folder / "out.txt");
  const std::string text((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("COULD NOT KEEP UP"), std::string::npos) << text;
  std::ifstream report_file(folder / "report.json");
  const auto report = nlohmann::json::parse(report_file);
  EXPECT_FALSE(report["kept_up"].get<bool>());
  EXPECT_GT(report["late"].get<int>(), 0);
  EXPECT_EQ(report["sent"], report["asked"]);
  std::filesystem::remove_all(folder);
}

}  // namespace
}  // namespace maestro
