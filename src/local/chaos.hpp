// The local cluster's chaos, as Chaos Mesh runs it in a cluster (chaos_spec.hpp): a pod kill deletes the pods
// the experiment selects (SIGKILL at once, or SIGTERM and the grace period), and their Deployment replaces
// them as its ReplicaSet would; a CPU stress runs stress-ng (what StressChaos runs) inside each selected
// pod's own cgroups, so it is held to the pod's CPU limit and counted as the pod's usage, until its duration
// is over (stress-ng's own --timeout is the backstop) or the pod goes. Experiments run once when applied, on
// a Schedule, or at random with a seeded rate (a Poisson process: Chaos Mesh has no kind for that).
//
// The engine runs on a thread of its own, which forks the stressors (their death signal is tied to it: no
// stressor outlives the engine). Each injection is an Event on the pod's Deployment (reason PodChaos or
// StressChaos, component chaos-mesh), so whoever watches the deployment — live::Env — sees when and where.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "local/chaos_spec.hpp"

namespace maestro::local {

struct ChaosPod {
  std::string namespace_;
  std::string name;
  std::string deployment;
  std::map<std::string, std::string> labels;  // the deployment's, app=<name> included
};

// What the engine needs of the cluster; the local cluster implements it.
class ChaosTarget {
 public:
  virtual ~ChaosTarget() = default;
  // The pods that run now (not terminating).
  virtual std::vector<ChaosPod> chaos_pods() = 0;
  // Deletes a pod as the API would: out of the Service at once, replaced by its Deployment; SIGKILL after
  // `grace_period` (0: at once).
  virtual Result<void> delete_pod(const ChaosPod& pod, std::chrono::seconds grace_period) = 0;
  // The cgroup.procs files a process joins to run inside the pod's limits; an error if the pod has none.
  virtual Result<std::vector<std::filesystem::path>> pod_cgroup_procs(const ChaosPod& pod) = 0;
  virtual void record_event(const ChaosPod& pod, const std::string& reason, const std::string& message) = 0;
};

// One injection into one pod.
struct ChaosInjection {
  std::string experiment;  // namespace/name
  std::string kind;        // PodChaos, StressChaos
  std::string namespace_;  // the pod's
  std::string pod;
  std::string deployment;
  std::chrono::system_clock::time_point at;
  std::chrono::system_clock::time_point until;  // a kill: `at`; a stress: when it ends or ended
  int stressor_pid = 0;                         // a stress: stress-ng's pid
  bool active = false;                          // a stress still running
};

struct ChaosStatus {
  std::vector<std::string> schedules;      // namespace/name (kind), and when it fires next
  std::vector<ChaosInjection> injections;  // the last 100, oldest first
};

class ChaosEngine {
 public:
  // `logs` is where stressors write their output; `seed` draws the pods picked and the random times.
  ChaosEngine(ChaosTarget& target, std::filesystem::path logs, std::uint64_t seed);
  ~ChaosEngine();  // stop()
  ChaosEngine(const ChaosEngine&) = delete;
  ChaosEngine& operator=(const ChaosEngine&) = delete;

  void start();
  // Ends every stress and stops the thread.
  void stop();

  // Runs experiments now and keeps schedules; an object of the same namespace/name replaces the one before
  // (kubectl apply), ending its stress. Returns "Kind namespace/name" of each, in order.
  Result<std::vector<std::string>> apply(const std::vector<ChaosObject>& objects);
  // Runs `experiment` at random times, `per_hour` on average (a Poisson process from the engine's seed).
  void add_random(const ChaosExperiment& experiment, double per_hour);
  // Ends an experiment or schedule (kubectl delete): its stressors are stopped. False if there was none.
  bool remove(const std::string& namespace_, const std::string& name);

  ChaosStatus status() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace maestro::local
