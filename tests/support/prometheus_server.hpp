// Test support: a real Prometheus (Debian's /usr/bin/prometheus) on loopback with a temporary storage
// directory and a short scrape interval, scraping the targets a test gives it. Prometheus cannot listen on
// port 0, so a free port is found by binding port 0 and closing it; on the rare race the start is retried.
// Header-only, for the integration tests (the whole-loop test reuses it).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "net/http_client.hpp"
#include "prom/query_client.hpp"
#include "target_app_process.hpp"

namespace maestro::testing {

// A port nothing listened on a moment ago.
inline std::uint16_t free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t size = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(fd);
  return ntohs(address.sin_port);
}

struct ScrapeTarget {
  std::string job;
  std::string address;  // host:port
  std::string metrics_path = "/metrics";
  std::map<std::string, std::string> labels;  // added to every series, as Kubernetes discovery would
  bool honor_labels = false;                  // keep the target's own namespace/pod labels (cAdvisor's)
};

class PrometheusServer {
 public:
  static constexpr const char* kBinary = "/usr/bin/prometheus";

  // `rule_files`: Prometheus rule files (recording and alerting rules), evaluated every scrape interval.
  static Result<std::unique_ptr<PrometheusServer>> start(
      const std::vector<ScrapeTarget>& targets,
      std::chrono::seconds scrape_interval = std::chrono::seconds(1),
      const std::vector<std::filesystem::path>& rule_files = {}) {
    std::string last_error;
    for (int attempt = 0; attempt < 3; ++attempt) {
      auto server = std::unique_ptr<PrometheusServer>(new PrometheusServer());
      auto started = server->launch(targets, scrape_interval, rule_files);
      if (started) return server;
      last_error = started.error().message;
    }
    return fail("Prometheus did not start: {}", last_error);
  }

  ~PrometheusServer() {
    process_.stop();
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
  }

  std::uint16_t port() const { return port_; }
  std::string url() const { return fmt::format("http://127.0.0.1:{}", port_); }
  net::HttpClient& http() { return *http_; }
  prom::PrometheusClient& client() { return *client_; }
  const std::filesystem::path& log_path() const { return log_; }

  // Polls the value of `promql` until `accept(value)` or the deadline; the last value (or error) seen.
  template <typename Accept>
  prom::QueryResult<double> wait_for_value(const std::string& promql, Accept accept,
                                           std::chrono::seconds deadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    prom::QueryResult<double> value = client_->value(promql);
    while (!(value && accept(*value)) && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));  // polling, with a deadline
      value = client_->value(promql);
    }
    return value;
  }

 private:
  PrometheusServer() = default;

  Result<void> launch(const std::vector<ScrapeTarget>& targets, std::chrono::seconds interval,
                      const std::vector<std::filesystem::path>& rule_files) {
    char pattern[] = "/tmp/maestro-prometheus-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) return fail("mkdtemp failed");
    directory_ = pattern;
    log_ = directory_ / "prometheus.log";
    port_ = free_loopback_port();

    std::string config = fmt::format(
        "global:\n  scrape_interval: {0}s\n  scrape_timeout: {0}s\n  evaluation_interval: "
        "{0}s\n",
        interval.count());
    if (!rule_files.empty()) config += "rule_files:\n";
    for (const auto& rule_file : rule_files) config += fmt::format("  - '{}'\n", rule_file.string());
    config += "scrape_configs:\n";
    for (const auto& target : targets) {
      config += fmt::format("  - job_name: '{}'\n    metrics_path: '{}'\n    honor_labels: {}\n", target.job,
                            target.metrics_path, target.honor_labels ? "true" : "false");
      config += fmt::format("    static_configs:\n      - targets: ['{}']\n", target.address);
      if (!target.labels.empty()) {
        config += "        labels:\n";
        for (const auto& [name, value] : target.labels)
          config += fmt::format("          {}: '{}'\n", name, value);
      }
    }
    std::ofstream(directory_ / "prometheus.yml") << config;

    auto child =
        ChildProcess::spawn({kBinary, "--config.file=" + (directory_ / "prometheus.yml").string(),
                             "--storage.tsdb.path=" + (directory_ / "data").string(),
                             fmt::format("--web.listen-address=127.0.0.1:{}", port_), "--log.level=warn"},
                            log_.string());
    if (!child) return std::unexpected(child.error());
    process_ = std::move(*child);

    net::HttpClientOptions options;
    options.base_url = url();
    options.connect_timeout = std::chrono::milliseconds(500);
    options.total_timeout = std::chrono::milliseconds(5000);
    options.retry.max_attempts = 1;
    http_ = std::make_unique<net::HttpClient>(options);
    client_ = std::make_unique<prom::PrometheusClient>(*http_);

    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < until) {
      if (!process_.running()) return fail("prometheus exited; see {}", log_.string());
      if (auto ready = http_->get("/-/ready"); ready && ready->status == 200) return {};
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // polling readiness, with a deadline
    }
    return fail("prometheus was not ready within 30 s; see {}", log_.string());
  }

  std::filesystem::path directory_;
  std::filesystem::path log_;
  std::uint16_t port_ = 0;
  ChildProcess process_;
  std::unique_ptr<net::HttpClient> http_;
  std::unique_ptr<prom::PrometheusClient> client_;
};

}  // namespace maestro::testing
