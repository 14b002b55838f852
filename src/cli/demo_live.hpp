// `maestro demo --live`: the learned policy and the Kubernetes HPA, one after the other, on the same real
// load against the local cluster (demo_live.cpp; docs/live-demo.md).
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

namespace maestro::cli {

struct LiveDemoOptions {
  bool live = false;
  std::string policy = "demo-out/policy.maestro";  // what `maestro demo` writes
  std::string out = "demo-live-out";
  std::string shared_dir;
  // World Cup 98, 7 July 1998 15:32 UTC (its test window): five minutes of a falling afternoon peak.
  std::int64_t window_start_unix = 899'825'520;
  int duration_seconds = 300;  // per policy
  double peak_rps = 70;        // one 0.2-core pod serves 40–60/s here, as loaded as the machine is
  int max_replicas = 4;
  double soft_ms = 200;
  double hard_ms = 1000;
  int hpa_target_percent = 50;
  std::uint64_t seed = 1;
};

// Adds --live and its options to `demo`.
void add_live_demo_options(CLI::App& demo, LiveDemoOptions& options);

void run_live_demo(const LiveDemoOptions& options);

}  // namespace maestro::cli
