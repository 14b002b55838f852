// The controller: every interval, for each managed deployment, one reconcile (reconcile.hpp): ask the
// suggestion server, check that the suggestion was decided for the replicas the deployment has (else hold:
// cause suggestion_replicas_changed), turn the action's replica change into a replica count (decision.hpp)
// and apply it through the scale subresource — GET, then merge-patch with the resourceVersion read,
// re-reading and retrying a bounded number of times on 409. On any failure it holds the current replicas,
// logs one line and counts the cause; the next interval starts afresh, so it recovers by itself. Every
// scaling action is recorded as a Kubernetes Event on the deployment. A deployment whose policy is hpa asks
// the HPA source (hpa_source.hpp) instead of the suggestion server, through the same reconcile.
//
// MaestroAutoscaler resources (autoscaler.hpp), when enabled, are listed every autoscalers.refresh, and at
// once when the watch (autoscaler_watch.hpp, started by run() or start_autoscaler_watch()) sees one change:
// each one's target is reconciled with its settings (a resource wins over the target's annotations), and its
// status and conditions are written (controller_autoscalers.cpp). A target another autoscaler (an HPA, a KEDA
// ScaledObject) also scales is refused with a condition and a Warning Event; `paused` holds; `dryRun`
// decides without writing; the fallback acts after its count of failed intervals. A resource's target may be
// of any kind with a scale subresource (found by kind through discovery, scaled by a WorkloadScaleClient),
// and its learned policy is asked with the resource's name, so that the suggestion server reads the target's
// kind and the resource's query overrides itself.
//
// Time comes from a base::Clock: tests drive intervals with a ManualClock and tick()/run_due(); run() is the
// real-time loop. Deployments are reconciled on a pool of worker threads, one reconcile per deployment at
// once.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.hpp"
#include "kube/client.hpp"
#include "services/controller/autoscaler.hpp"
#include "services/controller/autoscaler_client.hpp"
#include "services/controller/autoscaler_watch.hpp"
#include "services/controller/config.hpp"
#include "services/controller/decision.hpp"
#include "services/controller/hpa_source.hpp"
#include "services/controller/reconcile.hpp"
#include "services/controller/suggestion_client.hpp"

namespace prometheus {
class Registry;
}

namespace maestro::controller {

class Controller {
 public:
  // `kube`, `suggestions`, `clock`, `registry` and `hpa` must outlive the controller; its metric families are
  // added to `registry`. A real API server's client, or any ScaleClient (fakes in tests). Deployments whose
  // policy is hpa are decided by `hpa` (without one they hold, cause hpa_unavailable).
  Controller(const ControllerConfig& config, kube::KubeClient& kube, SuggestionSource& suggestions,
             const base::Clock& clock, prometheus::Registry& registry, HpaSource* hpa = nullptr);
  Controller(const ControllerConfig& config, ScaleClient& kube, SuggestionSource& suggestions,
             const base::Clock& clock, prometheus::Registry& registry, HpaSource* hpa = nullptr);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Refreshes discovery if due, and queues every deployment that is due and not already being reconciled.
  void tick();
  // Blocks until nothing is queued or running.
  void wait_idle();
  // tick() and wait_idle(): one round, for tests.
  void run_due();
  // Reconciles every managed deployment once, due or not (after discovery, if enabled), and waits for them;
  // returns how many held because something failed (a failed discovery counts as one).
  int reconcile_all();
  // The real-time loop: tick, sleep until the next deployment is due, until stop(). Starts the autoscaler
  // watch first.
  void run();
  // Watches MaestroAutoscalers, if they are enabled with watch and the controller has an API server's
  // client: a change makes the next tick() list them. Once; run() calls it.
  void start_autoscaler_watch();
  void stop();

  // True once the deployments to manage are known (discovery, if enabled, has listed them once).
  bool ready() const;
  // "namespace/name" of every managed deployment.
  std::vector<std::string> managed() const;

 private:
  struct Target;
  struct Metrics;

  // Adds the listed deployments and starts the workers (the constructors' common part).
  void start();
  void discover();
  // Lists the MaestroAutoscalers and the other autoscalers, and updates the targets they name.
  void sync_autoscalers();
  // A reconcile of an autoscaled target that must not ask for a decision (another autoscaler scales it, or
  // it is paused): its status written; nothing if it may decide.
  std::optional<bool> refuse_autoscaled(Target& target, const Autoscaler& autoscaler, ScaleClient& scale);
  // After a reconcile of an autoscaled target: the fallback if it is due, and its status.
  void report_autoscaled(Target& target, const Autoscaler& autoscaler, const ReconcileOutcome& outcome,
                         ScaleClient& scale);
  void write_status(Target& target, const Autoscaler& autoscaler);
  void add_target(const std::string& ns, const std::string& name, const DeploymentSettings& settings,
                  bool listed, base::Clock::TimePoint first_due);
  void work();
  // reconcile_deployment() and its report (log line, metrics); false if it held because something failed.
  bool reconcile(Target& target);
  // A target no longer managed (already out of targets_; mutex held): its metric series are removed now,
  // or by the worker reconciling it when that ends, so that a controller that sees deployments come and go
  // does not keep a series for every one it ever managed.
  void forget(const std::shared_ptr<Target>& target);
  void remove_series(const Target& target);

  ControllerConfig config_;
  std::unique_ptr<ScaleClient> owned_kube_;  // the adapter of a kube::KubeClient, if given one
  ScaleClient& kube_;
  std::unique_ptr<AutoscalerClient> autoscalers_;  // with a kube::KubeClient, when autoscalers are enabled
  kube::KubeClient* kube_client_ = nullptr;        // the API server's client, if given one
  SuggestionSource& suggestions_;
  HpaSource* hpa_;
  const base::Clock& clock_;
  std::unique_ptr<Metrics> metrics_;

  mutable std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable idle_;
  std::condition_variable wake_;
  std::map<std::string, std::shared_ptr<Target>> targets_;
  std::deque<std::shared_ptr<Target>> queue_;
  int busy_ = 0;
  bool stopping_ = false;
  bool discovered_once_ = false;
  base::Clock::TimePoint next_discovery_{};
  bool autoscalers_listed_once_ = false;
  base::Clock::TimePoint next_autoscaler_sync_{};
  bool autoscalers_changed_ = false;  // the watch saw a change: list at the next tick
  std::unique_ptr<AutoscalerWatch> autoscaler_watch_;
  std::vector<std::thread> workers_;
};

}  // namespace maestro::controller
