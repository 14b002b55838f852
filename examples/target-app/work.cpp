#include "work.hpp"

#include <time.h>

#include <charconv>
#include <cmath>
#include <memory>
#include <thread>

namespace maestro::target_app {

namespace {

constexpr double kMaxMilliseconds = 3'600'000;
constexpr double kMaxKilobytes = 1024 * 1024;

Result<double> parameter(const net::HttpRequest& request, std::string_view name, double fallback,
                         double max) {
  const auto text = request.query_param(name);
  if (!text) return fallback;
  double value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{} || end != text->data() + text->size() || !std::isfinite(value))
    return fail("query parameter {} must be a number, got '{}'", name, *text);
  if (value < 0 || value > max)
    return fail("query parameter {} must be in [0, {}], got {}", name, max, value);
  return value;
}

std::chrono::nanoseconds thread_cpu_time() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
}

}  // namespace

Result<RequestCost> cost_of(const net::HttpRequest& request, const RequestCost& defaults) {
  using Ms = std::chrono::duration<double, std::milli>;
  auto cpu_ms = parameter(request, "cpu_ms", Ms(defaults.cpu).count(), kMaxMilliseconds);
  if (!cpu_ms) return std::unexpected(cpu_ms.error());
  auto memory_kb =
      parameter(request, "memory_kb", static_cast<double>(defaults.memory_bytes) / 1024, kMaxKilobytes);
  if (!memory_kb) return std::unexpected(memory_kb.error());
  auto wait_ms = parameter(request, "wait_ms", Ms(defaults.wait).count(), kMaxMilliseconds);
  if (!wait_ms) return std::unexpected(wait_ms.error());
  return RequestCost{std::chrono::duration_cast<std::chrono::microseconds>(Ms(*cpu_ms)),
                     static_cast<std::size_t>(*memory_kb * 1024),
                     std::chrono::duration_cast<std::chrono::microseconds>(Ms(*wait_ms))};
}

std::uint64_t spend(const RequestCost& cost) {
  std::uint64_t digest = 0;
  // Memory first, held while the CPU work runs, as a request's working set would be.
  std::unique_ptr<char[]> memory;
  if (cost.memory_bytes > 0) {
    memory = std::make_unique_for_overwrite<char[]>(cost.memory_bytes);
    for (std::size_t page = 0; page < cost.memory_bytes; page += 4096) memory[page] = static_cast<char>(page);
    digest += static_cast<unsigned char>(memory[cost.memory_bytes / 2 / 4096 * 4096]);
  }
  // Measured in the thread's own CPU time, so that a request costs the same CPU however busy the machine is.
  const auto until = thread_cpu_time() + cost.cpu;
  std::uint64_t x = 88172645463325252ull;
  while (thread_cpu_time() < until) {
    for (int i = 0; i < 256; ++i) {  // xorshift: work the optimiser must keep
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
    }
  }
  digest += x;
  if (cost.wait.count() > 0) std::this_thread::sleep_for(cost.wait);
  return digest;
}

}  // namespace maestro::target_app
