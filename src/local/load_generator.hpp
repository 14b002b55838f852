// `maestro load`'s engine: open-model HTTP load. Requests go out at the arrival times of a RatePlan's
// Poisson process whatever the service answers (an arrival rate, not closed-loop users), from a pool of
// `concurrency` senders; an arrival that finds every sender busy goes out late, and its latency counts from
// its arrival, as its user would see it (no coordinated omission). The report gives the rate asked and
// achieved, client-side latency percentiles and whether the generator kept up with the rate asked.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "local/load_plan.hpp"

namespace maestro::local {

struct LoadProgress {
  double elapsed_seconds = 0;
  double asked_rps = 0;  // over the last period
  double sent_rps = 0;
  double ok_rps = 0;
  double p95_ms = 0;  // of the requests that finished in the last period
  int in_flight = 0;
  std::size_t answered = 0;  // requests answered in the last period
  std::size_t over_slo = 0;  // of them, slower than LoadOptions::slo (0 when it is 0)
};

struct LoadOptions {
  std::string target;  // "http://127.0.0.1:8080"
  std::string path = "/work";
  std::string method = "GET";
  int concurrency = 64;  // requests in flight at most
  std::chrono::milliseconds timeout{10'000};
  // "Connection: close" on every request, so that each is balanced anew (kube-proxy balances connections).
  bool new_connection_per_request = true;
  std::chrono::milliseconds late_after{100};  // sent later than this after its arrival: the generator lagged
  std::chrono::milliseconds progress_every{10'000};
  std::chrono::milliseconds slo{0};  // progress counts the answers slower than this (0: none)
  std::function<void(const LoadProgress&)> on_progress;
};

struct LoadReport {
  double duration_seconds = 0;  // of the plan (until it was stopped)
  double elapsed_seconds = 0;   // until the last answer: sent and ok rates are over this
  std::size_t asked = 0;        // arrivals in the run (until it was stopped)
  std::size_t sent = 0;
  std::size_t ok = 0;                 // 2xx
  std::size_t failed_status = 0;      // a response, not 2xx
  std::size_t failed_connection = 0;  // no response: refused, reset
  std::size_t timed_out = 0;
  double asked_rps = 0;
  double sent_rps = 0;
  double ok_rps = 0;
  // Client-side latency of the requests answered, from their arrival (time waiting for a sender counts), ms.
  double p50_ms = 0, p90_ms = 0, p95_ms = 0, p99_ms = 0, max_ms = 0;
  std::size_t late = 0;  // sent more than late_after after their arrival
  double max_lateness_ms = 0;
  bool kept_up = true;  // at most 1% late, and every arrival sent

  std::string summary() const;
  nlohmann::json to_json() const;
};

// Runs the plan against `options.target` until its end or `stop`. `seed` draws the arrivals.
LoadReport run_load(const RatePlan& plan, const LoadOptions& options, std::uint64_t seed,
                    const std::atomic<bool>& stop);

}  // namespace maestro::local
