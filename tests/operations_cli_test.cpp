// What an operator relies on, on the built `maestro`: --log-format json gives one JSON object a line (before
// or after the subcommand) and --log-level filters; a level or format it does not have is a usage error (2);
// every service's /metrics has maestro_build_info, which promtool accepts; and `eval` and `demo` run
// synthetic scenarios where there is no shared/ folder (as in the image), while a trace scenario says what is
// missing.

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "net/http_client.hpp"
#include "support/shell.hpp"
#include "support/target_app_process.hpp"

namespace maestro {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string kMaestro = std::string(MAESTRO_BINARY_DIR) + "/maestro";

using Output = testing::ShellResult;  // stdout and stderr

Output run(const std::string& command) {
  return testing::run_shell(command + " 2>&1");
}

class OperationsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = fs::temp_directory_path() / fmt::format("maestro-operations-{}", ::getpid());
    fs::create_directories(directory_);
    policy_ = directory_ / "policy.maestro";
    ASSERT_EQ(run(fmt::format("{} policy init --out {} --seed 1", kMaestro, policy_.string())).status, 0);
  }
  void TearDown() override { fs::remove_all(directory_); }

  // `maestro serve model` with `flags`; the lines it printed before "listening on PORT", and the port.
  std::pair<std::vector<std::string>, std::uint16_t> serve_model(std::vector<std::string> flags) {
    std::vector<std::string> argv = {kMaestro};
    argv.insert(argv.end(), flags.begin(), flags.end());
    auto process = testing::ChildProcess::spawn(argv, (directory_ / "model-server.err").string());
    EXPECT_TRUE(process.has_value());
    model_server_ = std::move(*process);
    std::vector<std::string> lines;
    while (auto line = model_server_.read_line(10s)) {
      unsigned port = 0;
      if (std::sscanf(line->c_str(), "listening on %u", &port) == 1)
        return {lines, static_cast<std::uint16_t>(port)};
      lines.push_back(*line);
    }
    ADD_FAILURE() << "maestro serve model did not start";
    return {lines, 0};
  }

  fs::path directory_;
  fs::path policy_;
  testing::ChildProcess model_server_;
};

TEST_F(OperationsCli, JsonLogLinesParseWithTimeLevelAndMessage) {
  // After the subcommand: the global option falls through.
  const auto [lines, port] = serve_model(
      {"serve", "model", "--policy", policy_.string(), "--listen", "127.0.0.1:0", "--log-format", "json"});
  ASSERT_NE(port, 0);
  ASSERT_FALSE(lines.empty()) << "the model server logs the policy it serves";
  for (const auto& line : lines) {
    const auto json = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(json.is_object()) << line;
    EXPECT_TRUE(json["time"].is_string() && json["time"].get<std::string>().ends_with("Z")) << line;
    EXPECT_EQ(json["level"], "info") << line;
    EXPECT_TRUE(json["message"].is_string()) << line;
  }
}

TEST_F(OperationsCli, LogLevelBeforeTheSubcommandFiltersInfo) {
  const auto [lines, port] = serve_model({"--log-level", "warn", "--log-format", "json", "serve", "model",
                                          "--policy", policy_.string(), "--listen", "127.0.0.1:0"});
  ASSERT_NE(port, 0);
  EXPECT_TRUE(lines.empty()) << lines.front();
}

TEST_F(OperationsCli, AnUnknownLogLevelOrFormatIsAUsageError) {
  for (const auto* flags : {"serve model --log-level verbose", "--log-level=loud eval",
                            "serve model --log-format xml", "--log-format=yaml controller"}) {
    const auto result = run(fmt::format("{} {} --policy {}", kMaestro, flags, policy_.string()));
    EXPECT_EQ(result.status, 2) << flags << ": " << result.output;
    EXPECT_NE(result.output.find("--log-"), std::string::npos) << result.output;
  }
}

TEST_F(OperationsCli, EveryServiceExportsBuildInfoThatPromtoolAccepts) {
  const auto [lines, model_port] =
      serve_model({"serve", "model", "--policy", policy_.string(), "--listen", "127.0.0.1:0"});
  ASSERT_NE(model_port, 0);
  auto sidecar = testing::ChildProcess::spawn({kMaestro, "sidecar", "--listen", "127.0.0.1:0", "--upstream",
                                               "127.0.0.1:1", "--metrics-listen", "127.0.0.1:0"});
  ASSERT_TRUE(sidecar.has_value());
  unsigned sidecar_port = 0, sidecar_metrics_port = 0;
  while (auto line = sidecar->read_line(10s))
    if (std::sscanf(line->c_str(), "listening on %u metrics on %u", &sidecar_port, &sidecar_metrics_port) ==
        2)
      break;
  ASSERT_NE(sidecar_metrics_port, 0u);

  const std::string version = run(kMaestro + " --version").output;
  for (const unsigned port : {unsigned{model_port}, sidecar_metrics_port}) {
    net::HttpClientOptions options;
    options.base_url = fmt::format("http://127.0.0.1:{}", port);
    net::HttpClient client(options);
    const auto metrics = client.get("/metrics");
    ASSERT_TRUE(metrics.has_value());
    const auto at = metrics->body.find("maestro_build_info{");
    ASSERT_NE(at, std::string::npos) << metrics->body;
    const std::string sample = metrics->body.substr(at, metrics->body.find('\n', at) - at);
    EXPECT_TRUE(sample.ends_with("} 1")) << sample;
    for (const auto* label : {"version=\"", "revision=\"", "compiler=\""})
      EXPECT_NE(sample.find(label), std::string::npos) << sample;
    // --version says the same build.
    EXPECT_NE(sample.find("version=\"0.1.0\""), std::string::npos) << sample;
    EXPECT_TRUE(version.starts_with("maestro 0.1.0 (revision ")) << version;
    const auto file = directory_ / fmt::format("metrics-{}.txt", port);
    std::ofstream(file) << metrics->body;
    const auto promtool = run("promtool check metrics < " + file.string());
    EXPECT_EQ(promtool.status, 0) << promtool.output;
  }
}

// The built binary, copied where no shared/ is beside it or beside the working directory, with
// MAESTRO_SHARED_DIR naming an empty folder: as in the image.
class WithoutShared : public OperationsCli {
 protected:
  void SetUp() override {
    OperationsCli::SetUp();
    fs::create_directories(directory_ / "bin" / "build");
    fs::create_directories(directory_ / "empty");
    binary_ = directory_ / "bin" / "build" / "maestro";
    fs::copy_file(kMaestro, binary_);
  }
  Output maestro(const std::string& arguments) {
    return run(fmt::format("cd {} && MAESTRO_SHARED_DIR={} {} {}", directory_.string(),
                           (directory_ / "empty").string(), binary_.string(), arguments));
  }
  fs::path binary_;
};

TEST_F(WithoutShared, EvalRunsASyntheticScenario) {
  const auto out = directory_ / "eval";
  const auto result = maestro(
      "eval --scenario steady --policy hpa --policy static --seeds 2 --duration 300 --out " + out.string());
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_TRUE(fs::exists(out / "results.json"));
  EXPECT_TRUE(fs::exists(out / "report.html"));
}

TEST_F(WithoutShared, ATraceScenarioSaysWhereTheTracesShouldBe) {
  const auto result =
      maestro("eval --scenario nasa --policy hpa --seeds 1 --out " + (directory_ / "x").string());
  EXPECT_EQ(result.status, 2) << result.output;
  EXPECT_NE(result.output.find("MAESTRO_SHARED_DIR"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("steady"), std::string::npos)
      << "names the synthetic scenarios: " << result.output;
}

TEST_F(WithoutShared, AnExplicitSharedDirWithoutTracesIsAUsageError) {
  const auto result =
      maestro("eval --scenario steady --policy hpa --shared-dir " + (directory_ / "empty").string());
  EXPECT_EQ(result.status, 2) << result.output;
}

TEST_F(WithoutShared, DemoTrainsAndEvaluatesOnSyntheticTraffic) {
  const auto out = directory_ / "demo";
  const auto result = maestro(
      "demo --scenario flash-crowd --train-scenario diurnal --steps 2048 --training-seeds 1 --seeds 1 "
      "--out " +
      out.string());
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("no shared traces: validating on steady and ramp"), std::string::npos)
      << result.output;
  EXPECT_TRUE(fs::exists(out / "report.html"));
}

}  // namespace
}  // namespace maestro
