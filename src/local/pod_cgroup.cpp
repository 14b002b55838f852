#include "local/pod_cgroup.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace maestro::local {

namespace {

constexpr const char* kCgroupMount = "/sys/fs/cgroup";

// This process's cgroup in `controller`'s hierarchy ("/" when at its root), from /proc/self/cgroup.
std::string own_cgroup(const std::string& controller) {
  std::ifstream lines("/proc/self/cgroup");
  std::string line;
  while (std::getline(lines, line)) {
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::stringstream controllers(line.substr(first + 1, second - first - 1));
    std::string name;
    while (std::getline(controllers, name, ','))
      if (name == controller) return line.substr(second + 1);
  }
  return "/";
}

std::filesystem::path controller_root(const std::string& controller) {
  return std::filesystem::path(kCgroupMount) / controller / own_cgroup(controller).substr(1) /
         "maestro-local";
}

Result<void> write_file(const std::filesystem::path& path, const std::string& value) {
  std::ofstream file(path);
  file << value;
  file.flush();
  if (!file) return fail("cannot write {} to {}", value, path.string());
  return {};
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream file(path);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

std::uint64_t read_number(const std::filesystem::path& path) {
  try {
    return std::stoull(read_text(path));
  } catch (const std::exception&) {
    return 0;
  }
}

// A "key value" line of a stat file such as cpu.stat or memory.stat.
std::uint64_t stat_value(const std::string& text, const std::string& key) {
  std::stringstream lines(text);
  std::string name;
  std::uint64_t value = 0;
  while (lines >> name >> value)
    if (name == key) return value;
  return 0;
}

}  // namespace

Result<void> PodCgroup::check_writable() {
  // cgroup v1 only: where /sys/fs/cgroup is a v2 hierarchy, creating folders would make v2 cgroups.
  const std::pair<const char*, const char*> controllers[] = {
      {"cpu", "cpu.cfs_quota_us"}, {"cpuacct", "cpuacct.usage"}, {"memory", "memory.limit_in_bytes"}};
  for (const auto& [controller, file] : controllers)
    if (!std::filesystem::exists(std::filesystem::path(kCgroupMount) / controller / file))
      return fail("no cgroup v1 {} controller at {}/{}", controller, kCgroupMount, controller);
  for (const char* controller : {"cpu", "cpuacct", "memory"}) {
    const auto root = controller_root(controller);
    std::error_code error;
    std::filesystem::create_directories(root, error);
    if (error) return fail("cannot create {}: {}", root.string(), error.message());
    if (::access(root.c_str(), W_OK) != 0) return fail("{} is not writable", root.string());
  }
  return {};
}

int PodCgroup::remove_orphans() {
  int removed = 0;
  const auto now = std::filesystem::file_time_type::clock::now();
  for (const char* controller : {"cpu", "cpuacct", "memory"}) {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(controller_root(controller), error)) {
      std::error_code stat_error;
      if (!entry.is_directory(stat_error) ||
          now - entry.last_write_time(stat_error) < std::chrono::minutes(1) || stat_error ||
          !read_text(entry.path() / "cgroup.procs").empty())
        continue;
      removed += ::rmdir(entry.path().c_str()) == 0;
    }
  }
  return removed;
}

Result<PodCgroup> PodCgroup::create(const std::string& pod, const PodLimits& limits) {
  PodCgroup cgroup;
  cgroup.cpu_ = controller_root("cpu") / pod;
  cgroup.cpuacct_ = controller_root("cpuacct") / pod;
  cgroup.memory_ = controller_root("memory") / pod;
  for (const auto& folder : {cgroup.cpu_, cgroup.cpuacct_, cgroup.memory_}) {
    std::error_code error;
    std::filesystem::create_directories(folder, error);
    if (error) return fail("cannot create cgroup {}: {}", folder.string(), error.message());
  }
  if (auto written = write_file(cgroup.cpu_ / "cpu.cfs_period_us", std::to_string(kCfsPeriodMicros));
      !written)
    return std::unexpected(written.error());
  const long long quota = limits.cpu_cores > 0
                              ? std::max(1000LL, static_cast<long long>(limits.cpu_cores * kCfsPeriodMicros))
                              : -1;
  if (auto written = write_file(cgroup.cpu_ / "cpu.cfs_quota_us", std::to_string(quota)); !written)
    return std::unexpected(written.error());
  if (limits.memory_bytes > 0)
    if (auto written =
            write_file(cgroup.memory_ / "memory.limit_in_bytes", std::to_string(limits.memory_bytes));
        !written)
      return std::unexpected(written.error());
  return cgroup;
}

PodCgroup::~PodCgroup() {
  // rmdir, not remove_all: a cgroup folder's files cannot be deleted, only the folder once it is empty.
  for (const auto& folder : {cpu_, cpuacct_, memory_})
    if (!folder.empty()) ::rmdir(folder.c_str());
}

std::vector<std::filesystem::path> PodCgroup::procs_files() const {
  std::vector<std::filesystem::path> files{cpu_ / "cgroup.procs", memory_ / "cgroup.procs"};
  if (std::filesystem::canonical(cpu_) != std::filesystem::canonical(cpuacct_))
    files.push_back(cpuacct_ / "cgroup.procs");
  return files;
}

ContainerUsage PodCgroup::usage() const {
  ContainerUsage usage;
  usage.cpu_seconds = static_cast<double>(read_number(cpuacct_ / "cpuacct.usage")) / 1e9;
  const std::string cpu_stat = read_text(cpu_ / "cpu.stat");
  usage.throttled_periods = stat_value(cpu_stat, "nr_throttled");
  usage.periods = stat_value(cpu_stat, "nr_periods");
  const std::uint64_t memory = read_number(memory_ / "memory.usage_in_bytes");
  const std::uint64_t inactive_file = stat_value(read_text(memory_ / "memory.stat"), "total_inactive_file");
  usage.working_set_bytes = memory > inactive_file ? memory - inactive_file : 0;
  return usage;
}

ContainerUsage process_usage(pid_t pid) {
  ContainerUsage usage;
  const std::string stat = read_text(fmt::format("/proc/{}/stat", pid));
  // Fields after the command name (which may hold spaces) start after the last ')'; utime and stime are the
  // 12th and 13th of them.
  if (const auto close = stat.rfind(')'); close != std::string::npos) {
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    double ticks = 0;
    for (int i = 1; i <= 13 && fields >> field; ++i)
      if (i == 12 || i == 13) ticks += std::stod(field);
    usage.cpu_seconds = ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  std::stringstream status(read_text(fmt::format("/proc/{}/status", pid)));
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) usage.working_set_bytes = std::stoull(line.substr(6)) * 1024;
  return usage;
}

}  // namespace maestro::local
