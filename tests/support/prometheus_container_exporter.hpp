// Test support: a stand-in for the kubelet's cAdvisor endpoint. No cAdvisor runs here, so this measures one
// process from outside, as cAdvisor measures a container — CPU seconds from /proc/PID/stat, working set from
// its resident memory — and serves container_cpu_usage_seconds_total and container_memory_working_set_bytes
// with cAdvisor's labels. It also serves the series a real kubelet has that the StateBuilder's queries must
// leave out: the pod-level cgroup (container=""), the pause container (container="POD") and a pod of another
// deployment whose name starts the same; each is large enough that counting it would show.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "net/http_server.hpp"

namespace maestro::testing {

// User plus system CPU time of `pid`, in seconds.
inline double process_cpu_seconds(pid_t pid) {
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces) start at the last ')'; utime and stime are
  // fields 14 and 15 of the line, i.e. the 12th and 13th after it.
  const auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 1; i <= 13 && fields >> field; ++i) {
    if (i == 12) utime = std::stod(field);
    if (i == 13) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// Resident memory of `pid`, in bytes.
inline double process_resident_bytes(pid_t pid) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) * 1024;  // "VmRSS:   1234 kB"
  return 0;
}

class ContainerMetricsExporter {
 public:
  static constexpr const char* kPath = "/metrics/cadvisor";

  ContainerMetricsExporter(pid_t pid, std::string namespace_name, std::string pod, std::string container)
      : pid_(pid),
        namespace_(std::move(namespace_name)),
        pod_(std::move(pod)),
        container_(std::move(container)) {
    server_.route("GET", kPath, [this](const net::HttpRequest&, net::HttpResponse& response) {
      response.content_type = "text/plain; version=0.0.4";
      response.body = exposition();
    });
  }

  Result<std::uint16_t> start() {
    auto port = server_.listen("127.0.0.1:0");
    if (port) server_.start();
    return port;
  }
  std::uint16_t port() const { return server_.port(); }

 private:
  std::string exposition() const {
    const double cpu = process_cpu_seconds(pid_);
    const double memory = process_resident_bytes(pid_);
    const std::string other_pod = "web-canary-6c9d8b7f5-k2x7p";
    std::string text =
        "# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed in seconds.\n"
        "# TYPE container_cpu_usage_seconds_total counter\n";
    const auto cpu_line = [&](const std::string& pod, const std::string& container, double value) {
      text += fmt::format(
          "container_cpu_usage_seconds_total{{container=\"{}\",cpu=\"total\",id=\"/kubepods/burstable/pod{}/"
          "{}\","
          "image=\"registry.local/web:1\",name=\"k8s_{}_{}\",namespace=\"{}\",pod=\"{}\"}} {}\n",
          container, pod, container, container, pod, namespace_, pod, value);
    };
    cpu_line(pod_, container_, cpu);
    cpu_line(pod_, "", cpu * 3 + 1000);  // the pod's cgroup: the container and more, counted again
    cpu_line(pod_, "POD", cpu * 2);
    cpu_line(other_pod, container_, cpu * 5);
    text +=
        "# HELP container_memory_working_set_bytes Current working set in bytes.\n"
        "# TYPE container_memory_working_set_bytes gauge\n";
    const auto memory_line = [&](const std::string& pod, const std::string& container, double value) {
      text += fmt::format(
          "container_memory_working_set_bytes{{container=\"{}\",id=\"/kubepods/burstable/pod{}/{}\","
          "image=\"registry.local/web:1\",name=\"k8s_{}_{}\",namespace=\"{}\",pod=\"{}\"}} {}\n",
          container, pod, container, container, pod, namespace_, pod, value);
    };
    memory_line(pod_, container_, memory);
    memory_line(pod_, "", memory + 1e9);
    memory_line(pod_, "POD", 7e8);
    memory_line(other_pod, container_, 3e9);
    return text;
  }

  pid_t pid_;
  std::string namespace_;
  std::string pod_;
  std::string container_;
  net::HttpServer server_;
};

}  // namespace maestro::testing
