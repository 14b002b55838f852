// One controller process managing 1,000 deployments at a 15 s interval against the Kubernetes API test double
// and a stand-in suggestion server (both in this process, so that the controller's figures are its own):
// its CPU (percent of one core, from /proc/PID/stat) and resident memory (VmRSS, from /proc/PID/status),
// sampled every second over the measured window, and the decisions, scale writes and events it made.
// The deployments are found by annotation (discovery lists them in pages of 500). The suggested action flips
// between scale-up and scale-down every interval, so that about half the decisions patch and record an event.
//
//   build-control/bench/bench_controller_scale            (MAESTRO_BENCH_SECONDS=120 by default)
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "../tests/support/fake_suggestion_server.hpp"
#include "../tests/support/target_app_process.hpp"
#include "local/fake_kube_api.hpp"

namespace maestro {
namespace {

using namespace std::chrono_literals;

constexpr int kDeployments = 1000;

double cpu_seconds(pid_t pid) {
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(stat)), {});
  // Fields after the command name (which may hold spaces) start after the last ')'.
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i)
    if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double resident_mib(pid_t pid) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line))
    if (line.starts_with("VmRSS:")) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

double median(std::vector<double> values) {
  std::ranges::sort(values);
  return values.empty() ? 0 : values[values.size() / 2];
}

void BM_ControllerThousandDeployments(benchmark::State& state) {
  const char* seconds_env = std::getenv("MAESTRO_BENCH_SECONDS");
  const auto measured = std::chrono::seconds(seconds_env ? std::atoi(seconds_env) : 120);

  local::FakeKubeApi api("bench-token", 32);
  for (int i = 0; i < kDeployments; ++i) {
    auto deployment = local::fake_deployment(fmt::format("team-{}", i % 10), fmt::format("app-{}", i), 5);
    deployment.annotations["maestro.io/autoscale"] = "true";
    api.put_deployment(deployment);
  }
  testing::FakeSuggestionServer suggestions{api};
  if (!api.start() || !suggestions.start()) {
    state.SkipWithError("servers did not start");
    return;
  }
  suggestions.answer_action(2);

  const auto dir =
      std::filesystem::temp_directory_path() / fmt::format("maestro-bench-controller-{}", ::getpid());
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "controller.yaml") << fmt::format(R"(
suggestion_server: {}
listen: 127.0.0.1:0
workers: 8
kubernetes:
  server: {}
  token: bench-token
defaults:
  interval_seconds: 15
  min_replicas: 1
  max_replicas: 10
discovery:
  refresh_seconds: 60
)",
                                                        suggestions.url(), api.url());

  for (auto _ : state) {
    auto controller =
        testing::ChildProcess::spawn({std::string(MAESTRO_BINARY_DIR) + "/maestro", "controller", "--config",
                                      (dir / "controller.yaml").string()},
                                     (dir / "controller.stderr").string());
    if (!controller) {
      state.SkipWithError(controller.error().message.c_str());
      return;
    }
    // Drain its log (one line per decision) so that it never blocks on a full pipe, counting decisions.
    std::atomic<long> decisions{0};
    std::atomic<bool> draining{true};
    std::thread drain([&] {
      while (draining)
        if (auto line = controller->read_line(200ms);
            line && line->find("decision namespace=") != std::string::npos)
          ++decisions;
    });

    // One interval to warm up (discovery, connections, the first pass over every deployment).
    std::this_thread::sleep_for(16s);  // a fixed measurement schedule, not waiting for a condition
    const auto writes_before = api.scale_writes().size();
    const auto events_before = api.events().size();
    const long decisions_before = decisions.load();
    const double cpu_before = cpu_seconds(controller->pid());
    const auto started = std::chrono::steady_clock::now();
    std::vector<double> rss;
    int action = 0;
    for (auto next = started; next < started + measured; next += 1s) {
      std::this_thread::sleep_until(next);
      rss.push_back(resident_mib(controller->pid()));
      // Flip the suggestion each interval: up, down, up, … so that half the decisions write.
      const int wanted = ((next - started) / 15s) % 2 == 0 ? 0 : 2;
      if (wanted != action) suggestions.answer_action(action = wanted);
    }
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const double cpu_percent = 100 * (cpu_seconds(controller->pid()) - cpu_before) / elapsed;
    const long decided = decisions.load() - decisions_before;
    const auto writes = api.scale_writes().size() - writes_before;
    const auto events = api.events().size() - events_before;
    const bool alive = controller->running();
    controller->stop();
    draining = false;
    drain.join();
    if (!alive) {
      state.SkipWithError("the controller exited during the run");
      return;
    }

    state.counters["cpu_percent_of_one_core"] = cpu_percent;
    state.counters["rss_mib_median"] = median(rss);
    state.counters["rss_mib_max"] = *std::ranges::max_element(rss);
    state.counters["decisions_per_s"] = decided / elapsed;
    state.counters["scale_writes"] = static_cast<double>(writes);
    state.counters["events"] = static_cast<double>(events);
    std::cout << fmt::format(
        "controller, {} deployments, 15 s interval, {:.0f} s measured: CPU {:.2f} % of one core, RSS median "
        "{:.1f} MiB "
        "(max {:.1f}), {:.1f} decisions/s (expected {:.1f}), {} scale writes, {} events\n",
        kDeployments, elapsed, cpu_percent, median(rss), *std::ranges::max_element(rss), decided / elapsed,
        kDeployments / 15.0, writes, events);
  }
  std::filesystem::remove_all(dir);
}

BENCHMARK(BM_ControllerThousandDeployments)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace
}  // namespace maestro
