#include "local/load_generator.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "net/http_client.hpp"

namespace maestro::local {

namespace {

using Clock = std::chrono::steady_clock;

double percentile(std::vector<float>& values, double q) {
  if (values.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
  const auto index = std::min(values.size() - 1, rank == 0 ? 0 : rank - 1);
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index), values.end());
  return values[index];
}

// Sleeps until `when` or `stop`, in steps short enough to notice `stop`; false if stopped.
bool wait_until(Clock::time_point when, const std::atomic<bool>& stop) {
  while (!stop) {
    const auto now = Clock::now();
    if (now >= when) return true;
    std::this_thread::sleep_for(std::min<Clock::duration>(when - now, std::chrono::milliseconds(100)));
  }
  return false;
}

struct Shared {
  std::mutex mutex;
  std::vector<float> latencies_ms;  // every answered request
  std::vector<float> recent_ms;     // since the last progress line
  std::atomic<std::size_t> sent{0}, ok{0}, failed_status{0}, failed_connection{0}, timed_out{0}, late{0};
  std::atomic<int> in_flight{0};
  double max_lateness_ms = 0;  // guarded by mutex
};

}  // namespace

LoadReport run_load(const RatePlan& plan, const LoadOptions& options, std::uint64_t seed,
                    const std::atomic<bool>& stop) {
  std::mt19937_64 rng(seed);
  const std::vector<double> arrivals = poisson_arrivals(plan, rng);
  Shared shared;
  std::atomic<std::size_t> next{0};
  const auto start = Clock::now();
  const auto at = [&](std::size_t index) {
    return start +
           std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(arrivals[index]));
  };

  const auto sender = [&] {
    net::HttpClientOptions client_options;
    client_options.base_url = options.target;
    client_options.total_timeout = options.timeout;
    client_options.connect_timeout = std::min(options.timeout, std::chrono::milliseconds(2000));
    client_options.retry.max_attempts = 1;
    client_options.user_agent = "maestro-load";
    net::HttpClient client(client_options);
    net::Request request;
    request.method = options.method;
    request.path = options.path;
    if (options.new_connection_per_request) request.headers.emplace_back("Connection", "close");
    while (!stop) {
      const std::size_t index = next.fetch_add(1);
      if (index >= arrivals.size() || !wait_until(at(index), stop)) return;
      const auto arrival = at(index);
      const double lateness_ms = std::chrono::duration<double, std::milli>(Clock::now() - arrival).count();
      shared.sent.fetch_add(1);
      if (lateness_ms > static_cast<double>(options.late_after.count())) shared.late.fetch_add(1);
      shared.in_flight.fetch_add(1);
      const auto answer = client.send(request);
      shared.in_flight.fetch_sub(1);
      const float latency_ms = std::chrono::duration<float, std::milli>(Clock::now() - arrival).count();
      if (!answer) {
        (answer.error().kind == net::HttpErrorKind::kTimeout ? shared.timed_out : shared.failed_connection)
            .fetch_add(1);
      } else {
        (answer->status >= 200 && answer->status < 300 ? shared.ok : shared.failed_status).fetch_add(1);
      }
      std::lock_guard lock(shared.mutex);
      shared.max_lateness_ms = std::max(shared.max_lateness_ms, lateness_ms);
      if (answer) {
        shared.latencies_ms.push_back(latency_ms);
        shared.recent_ms.push_back(latency_ms);
      }
    }
  };

  std::atomic<bool> finished{false};
  std::thread progress;
  if (options.on_progress)
    progress = std::thread([&] {
      std::size_t last_sent = 0, last_ok = 0, last_asked = 0;
      auto last = start;
      while (wait_until(last + options.progress_every, finished)) {
        const auto now = Clock::now();
        const double seconds = std::chrono::duration<double>(now - last).count();
        const double elapsed = std::chrono::duration<double>(now - start).count();
        const auto asked = static_cast<std::size_t>(
            std::upper_bound(arrivals.begin(), arrivals.end(), elapsed) - arrivals.begin());
        std::vector<float> recent;
        {
          std::lock_guard lock(shared.mutex);
          recent.swap(shared.recent_ms);
        }
        const std::size_t sent = shared.sent, ok = shared.ok;
        const auto slo_ms = static_cast<float>(options.slo.count());
        const auto over_slo =
            options.slo.count() > 0
                ? static_cast<std::size_t>(
                      std::count_if(recent.begin(), recent.end(), [slo_ms](float ms) { return ms > slo_ms; }))
                : 0;
        options.on_progress({elapsed, (asked - last_asked) / seconds, (sent - last_sent) / seconds,
                             (ok - last_ok) / seconds, percentile(recent, 0.95), shared.in_flight.load(),
                             recent.size(), over_slo});
        last_sent = sent, last_ok = ok, last_asked = asked, last = now;
      }
    });

  std::vector<std::thread> senders;
  for (int i = 0; i < std::max(1, options.concurrency); ++i) senders.emplace_back(sender);
  for (auto& thread : senders) thread.join();
  finished = true;
  if (progress.joinable()) progress.join();

  LoadReport report;
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  report.duration_seconds = stop ? std::min(elapsed, plan.duration_seconds()) : plan.duration_seconds();
  report.asked = stop ? static_cast<std::size_t>(std::upper_bound(arrivals.begin(), arrivals.end(), elapsed) -
                                                 arrivals.begin())
                      : arrivals.size();
  report.sent = shared.sent;
  report.ok = shared.ok;
  report.failed_status = shared.failed_status;
  report.failed_connection = shared.failed_connection;
  report.timed_out = shared.timed_out;
  report.late = shared.late;
  report.max_lateness_ms = shared.max_lateness_ms;
  report.elapsed_seconds = elapsed;
  if (report.duration_seconds > 0)
    report.asked_rps = static_cast<double>(report.asked) / report.duration_seconds;
  if (elapsed > 0) {
    report.sent_rps = static_cast<double>(report.sent) / elapsed;
    report.ok_rps = static_cast<double>(report.ok) / elapsed;
  }
  auto& latencies = shared.latencies_ms;
  report.p50_ms = percentile(latencies, 0.50);
  report.p90_ms = percentile(latencies, 0.90);
  report.p95_ms = percentile(latencies, 0.95);
  report.p99_ms = percentile(latencies, 0.99);
  report.max_ms = latencies.empty() ? 0 : *std::max_element(latencies.begin(), latencies.end());
  report.kept_up =
      report.sent >= report.asked &&
      static_cast<double>(report.late) <= 0.01 * static_cast<double>(std::max<std::size_t>(1, report.sent));
  return report;
}

std::string LoadReport::summary() const {
  std::string text = fmt::format(
      "asked {} requests in {:.1f} s ({:.1f}/s); over {:.1f} s sent {} ({:.1f}/s), 2xx {} ({:.1f}/s); other "
      "status {}, no connection {}, timed out {}\nlatency from arrival (ms): p50 {:.1f}  p90 {:.1f}  p95 "
      "{:.1f}  p99 "
      "{:.1f}  "
      "max {:.1f}\n",
      asked, duration_seconds, asked_rps, elapsed_seconds, sent, sent_rps, ok, ok_rps, failed_status,
      failed_connection, timed_out, p50_ms, p90_ms, p95_ms, p99_ms, max_ms);
  if (kept_up)
    text += fmt::format("kept up with the rate asked ({} requests late, at most {:.0f} ms)", late,
                        max_lateness_ms);
  else
    text += fmt::format(
        "COULD NOT KEEP UP with the rate asked: {} of {} requests went out late (at most {:.0f} ms), {} "
        "never went "
        "out; raise --concurrency or lower the rate",
        late, sent, max_lateness_ms, asked > sent ? asked - sent : 0);
  return text;
}

nlohmann::json LoadReport::to_json() const {
  return {
      {"duration_seconds", duration_seconds},
      {"elapsed_seconds", elapsed_seconds},
      {"asked", asked},
      {"sent", sent},
      {"ok", ok},
      {"failed_status", failed_status},
      {"failed_connection", failed_connection},
      {"timed_out", timed_out},
      {"asked_rps", asked_rps},
      {"sent_rps", sent_rps},
      {"ok_rps", ok_rps},
      {"latency_ms", {{"p50", p50_ms}, {"p90", p90_ms}, {"p95", p95_ms}, {"p99", p99_ms}, {"max", max_ms}}},
      {"late", late},
      {"max_lateness_ms", max_lateness_ms},
      {"kept_up", kept_up}};
}

}  // namespace maestro::local
