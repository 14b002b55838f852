// sim::Cluster: per-pod and pooled queues against closed forms and a discrete-event simulation, the knee,
// hot spots under each balancer, warm-up, per-pod CPU, backlog growth and drain, timeouts, conservation,
// start-up and drain, chaos, Prometheus-style metrics and determinism.
#include "sim/cluster.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cmath>

#include "sim/queueing.hpp"

namespace maestro::sim {
namespace {

ClusterConfig quiet_config() {
  ClusterConfig config;
  config.metrics.cpu_noise = config.metrics.memory_noise = config.metrics.latency_noise = 0;
  config.metrics.rps_noise = 0;
  return config;
}

void expect_conserved(const Cluster& cluster) {
  const auto& totals = cluster.totals();
  EXPECT_NEAR(totals.arrivals, totals.served + totals.dropped + cluster.queued(),
              1e-6 * (1 + totals.arrivals));
}

// The p95 of one steady second: `pods` warm pods at `rate` requests/s in all.
double steady_p95_ms(const ClusterConfig& base, int pods, double rate) {
  ClusterConfig config = base;
  config.initial_replicas = pods;
  config.bounds.max = std::max(config.bounds.max, pods);
  const std::vector<double> arrivals(5, rate);
  Cluster cluster(config);
  cluster.reset(arrivals, 1);
  cluster.advance(3);
  return cluster.last_tick().p95_ms;
}

TEST(ClusterConfig, DefaultsAreValidAndNonsenseIsRefused) {
  EXPECT_TRUE(validate(ClusterConfig{}).has_value());
  EXPECT_EQ(ClusterConfig{}.balancer, Balancer::kRandom);
  ClusterConfig bad;
  bad.service.cpu_seconds_per_request = 0;
  EXPECT_FALSE(validate(bad).has_value());
  bad = {};
  bad.initial_replicas = 100;
  EXPECT_FALSE(validate(bad).has_value());
  bad = {};
  bad.slo = {};
  EXPECT_FALSE(validate(bad).has_value());
  bad = {};
  bad.chaos.stress_capacity_loss = 1;
  EXPECT_FALSE(validate(bad).has_value());
  bad = {};
  bad.balancer = static_cast<Balancer>(7);
  EXPECT_FALSE(validate(bad).has_value());
  bad = {};
  bad.service.service_time = ServiceTimeDistribution::kLogNormal;
  bad.service.service_time_cv = 0;
  EXPECT_FALSE(validate(bad).has_value());
  bad = {};
  bad.warmup.initial_speed = 0;
  EXPECT_FALSE(validate(bad).has_value());
  bad = {};
  bad.metrics.scrape_interval_seconds = 20;  // a 30 s window would not hold two scrapes
  const auto refused = validate(bad);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("scrape interval"), std::string::npos);
}

TEST(ClusterQueueing, PooledP95MatchesErlangCAtSeveralLoads) {
  ClusterConfig config = quiet_config();
  config.balancer = Balancer::kPooled;
  const double mu = config.service.service_rate();
  for (const double utilisation : {0.2, 0.5, 0.8, 0.9, 0.95}) {
    const double expected =
        config.service.base_latency_ms + 1000 * mmc_sojourn_quantile(4, utilisation * 4 * mu, mu, 0.95);
    EXPECT_NEAR(steady_p95_ms(config, 4, utilisation * 4 * mu) / expected, 1.0, 0.01) << "ρ=" << utilisation;
  }
}

TEST(ClusterQueueing, RandomBalancingMakesEachPodAnM_M_1Queue) {
  ClusterConfig config = quiet_config();
  const double mu = config.service.service_rate();
  for (const double utilisation : {0.2, 0.5, 0.8, 0.9, 0.95}) {
    const double lambda = utilisation * mu;  // per pod
    const double expected = config.service.base_latency_ms + 1000 * std::log(20.0) / (mu - lambda);
    EXPECT_NEAR(steady_p95_ms(config, 4, 4 * lambda) / expected, 1.0, 0.01) << "ρ=" << utilisation;
  }
}

// The p95 ≤ soft-SLO knee: the highest utilisation at which `pods` warm pods keep the SLO.
double knee(const ClusterConfig& config, int pods) {
  const double capacity = pods * config.service.service_rate();
  double lo = 0, hi = 0.99;
  for (int i = 0; i < 30; ++i) {
    const double mid = 0.5 * (lo + hi);
    (steady_p95_ms(config, pods, mid * capacity) <= *config.slo.soft_ms ? lo : hi) = mid;
  }
  return lo;
}

TEST(ClusterQueueing, TheKneeSitsNear70PercentBehindAServiceAndFarHigherPooled) {
  ClusterConfig config = quiet_config();
  // M/M/1: 5 ms + ln 20 / (μ(1 − ρ)) = 100 ms at ρ = 1 − 10 ln 20 / 95 = 0.684.
  EXPECT_NEAR(knee(config, 4), 1 - 10 * std::log(20.0) / 95, 0.003);
  EXPECT_NEAR(knee(config, 16), knee(config, 4), 1e-9);  // independent of the pod count
  config.balancer = Balancer::kRoundRobin;               // smoother arrivals: a little hotter
  const double round_robin = knee(config, 4);
  EXPECT_GT(round_robin, 0.70);
  EXPECT_LT(round_robin, 0.80);
  config.balancer = Balancer::kPooled;
  EXPECT_GT(knee(config, 4), 0.85);
  EXPECT_GT(knee(config, 16), 0.95);
}

TEST(ClusterQueueing, PodsNeededIsTheModelsTruth) {
  for (const Balancer balancer : {Balancer::kRandom, Balancer::kRoundRobin, Balancer::kPooled}) {
    ClusterConfig config = quiet_config();
    config.balancer = balancer;
    for (const double rate : {30.0, 250.0, 450.0, 1234.0}) {
      const int pods = pods_needed(config, rate);
      ASSERT_LE(pods, config.bounds.max);
      EXPECT_LE(steady_p95_ms(config, pods, rate), *config.slo.soft_ms) << rate;
      if (pods > 1) {
        EXPECT_GT(steady_p95_ms(config, pods - 1, rate), *config.slo.soft_ms) << rate;
      }
    }
    EXPECT_EQ(pods_needed(config, 0), config.bounds.min);
    EXPECT_EQ(pods_needed(config, 1e9), config.bounds.max + 1);
  }
  ClusterConfig config;
  const int random = pods_needed(config, 1000);
  config.balancer = Balancer::kPooled;
  EXPECT_LT(pods_needed(config, 1000), random);
  EXPECT_EQ(random, 15);  // 1000 / 68.4 per pod
}

// Sojourn times of one FIFO server fed at `rate`: Poisson arrivals, or every `every`-th of a Poisson stream
// of `every` × rate (a round-robin share), by Lindley's recursion.
std::vector<double> simulated_sojourns(const ServiceModel& service, double rate, int every, int requests,
                                       std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> gap(rate * every);
  const double mean = 1 / service.service_rate(), scv = service.service_scv();
  const double sigma = std::sqrt(std::log1p(scv));
  std::lognormal_distribution<double> lognormal(std::log(mean) - 0.5 * sigma * sigma, sigma);
  std::exponential_distribution<double> exponential(1 / mean);
  std::vector<double> sojourns;
  sojourns.reserve(static_cast<std::size_t>(requests));
  double wait = 0, previous_service = 0;
  for (int i = 0; i < requests; ++i) {
    double interarrival = 0;
    for (int k = 0; k < every; ++k) interarrival += gap(rng);
    wait = std::max(0.0, wait + previous_service - interarrival);
    previous_service =
        service.service_time == ServiceTimeDistribution::kExponential ? exponential(rng) : lognormal(rng);
    if (i > requests / 10) sojourns.push_back(wait + previous_service);  // skip the warm-up
  }
  return sojourns;
}

struct DesCase {
  Balancer balancer;
  ServiceTimeDistribution distribution;
  double cv;
  double p95_tolerance;    // relative
  double share_tolerance;  // of the share over the soft SLO, absolute
};

TEST(ClusterQueueing, PerPodModelAgreesWithADiscreteEventSimulation) {
  const DesCase cases[] = {
      // M/M/1 is exact: what differs is the simulation's sampling error at high utilisation.
      {Balancer::kRandom, ServiceTimeDistribution::kExponential, 1, 0.03, 0.005},
      {Balancer::kRandom, ServiceTimeDistribution::kLogNormal, 1, 0.06, 0.015},
      // A wide spread: the exponential conditional wait puts too many requests just over the SLO (the share
      // is overstated by up to 8 points at ρ ≥ 0.68) while the p95 stays within 8%.
      {Balancer::kRandom, ServiceTimeDistribution::kLogNormal, 2, 0.10, 0.085},
      {Balancer::kRoundRobin, ServiceTimeDistribution::kExponential, 1, 0.08, 0.01},
      {Balancer::kRoundRobin, ServiceTimeDistribution::kLogNormal, 0.5, 0.08, 0.006},
  };
  constexpr int kPods = 4;
  for (const auto& c : cases) {
    ClusterConfig config = quiet_config();
    config.balancer = c.balancer;
    config.service.service_time = c.distribution;
    config.service.service_time_cv = c.cv;
    config.initial_replicas = kPods;
    const double mu = config.service.service_rate();
    for (const double utilisation : {0.3, 0.5, 0.684, 0.8, 0.9}) {
      const double per_pod = utilisation * mu;
      const std::vector<double> arrivals(5, kPods * per_pod);
      Cluster cluster(config);
      cluster.reset(arrivals, 1);
      cluster.advance(1);
      const double model_p95 = cluster.last_tick().p95_ms;
      const double model_share = cluster.totals().requests_over_soft / cluster.totals().served;

      auto sojourns = simulated_sojourns(config.service, per_pod,
                                         c.balancer == Balancer::kRoundRobin ? kPods : 1, 1'000'000, 11);
      const double base = config.service.base_latency_ms;
      const double over = static_cast<double>(std::count_if(
                              sojourns.begin(), sojourns.end(),
                              [&](double s) { return base + 1000 * s > *config.slo.soft_ms; })) /
                          static_cast<double>(sojourns.size());
      const auto at = sojourns.begin() + static_cast<long>(0.95 * static_cast<double>(sojourns.size()));
      std::nth_element(sojourns.begin(), at, sojourns.end());
      const double simulated_p95 = base + 1000 * *at;
      const auto label = ::testing::Message()
                         << "balancer " << static_cast<int>(c.balancer) << " distribution "
                         << static_cast<int>(c.distribution) << " cv " << c.cv << " ρ=" << utilisation
                         << ": model p95 " << model_p95 << " ms, simulated " << simulated_p95
                         << " ms; over soft " << model_share << " vs " << over;
      EXPECT_NEAR(model_p95 / simulated_p95, 1.0, c.p95_tolerance) << label;
      EXPECT_NEAR(model_share, over, c.share_tolerance) << label;
    }
  }
}

TEST(ClusterQueueing, BacklogGrowsUnderOverloadAndDrainsAfter) {
  ClusterConfig config = quiet_config();
  config.initial_replicas = 2;  // 200 requests/s
  std::vector<double> arrivals(5, 300.0);
  arrivals.resize(20, 100.0);
  Cluster cluster(config);
  cluster.reset(arrivals, 1);
  double previous_p95 = 0;
  for (int t = 0; t < 5; ++t) {
    cluster.advance(1);
    EXPECT_NEAR(cluster.queued(), 100.0 * (t + 1), 1e-9);
    EXPECT_GT(cluster.last_tick().p95_ms, previous_p95);
    previous_p95 = cluster.last_tick().p95_ms;
  }
  EXPECT_GT(previous_p95, 2000);  // 250 queued per pod at 100/s: 2.5 s of waiting
  for (int t = 0; t < 5; ++t) {
    cluster.advance(1);
    EXPECT_NEAR(cluster.queued(), 500.0 - 100.0 * (t + 1), 1e-9);
    EXPECT_EQ(cluster.last_tick().served, 200);
  }
  cluster.advance(2);
  EXPECT_EQ(cluster.queued(), 0);
  EXPECT_LT(cluster.last_tick().p95_ms, 100);
  EXPECT_EQ(cluster.totals().dropped, 0);
  // Everyone who waited behind the backlog was over the soft SLO.
  EXPECT_GT(cluster.totals().requests_over_soft, 1000);
  EXPECT_LE(cluster.totals().requests_over_hard, cluster.totals().requests_over_soft);
  expect_conserved(cluster);
}

TEST(ClusterQueueing, RequestsWaitingPastTheTimeoutAreDropped) {
  ClusterConfig config = quiet_config();
  config.initial_replicas = 1;  // 100 requests/s
  const std::vector<double> arrivals(60, 200.0);
  Cluster cluster(config);
  cluster.reset(arrivals, 1);
  for (int t = 0; t < 60; ++t) {
    cluster.advance(1);
    expect_conserved(cluster);
    // Nothing has waited the full 10 s before the 11th second.
    if (t < config.service.timeout_seconds) {
      EXPECT_EQ(cluster.totals().dropped, 0) << t;
    }
  }
  EXPECT_EQ(cluster.totals().served, 100.0 * 60);  // the pod never idles
  EXPECT_GT(cluster.totals().dropped, 3000);
  // FIFO: what is still queued arrived within the timeout.
  EXPECT_LE(cluster.queued(), 200.0 * (config.service.timeout_seconds + 1));
  EXPECT_EQ(cluster.totals().seconds_over_hard, 60);  // a second's backlog already means p95 over 500 ms
}

TEST(ClusterQueueing, WithoutReadyPodsAServiceRefusesAndAPoolQueues) {
  ClusterConfig config = quiet_config();
  config.bounds.min = 0;
  config.initial_replicas = 0;
  const std::vector<double> arrivals(30, 10.0);
  Cluster cluster(config);
  cluster.reset(arrivals, 1);
  cluster.advance(30);
  EXPECT_EQ(cluster.totals().served, 0);
  EXPECT_EQ(cluster.totals().dropped, 300);  // no endpoints: refused at once
  EXPECT_EQ(cluster.totals().seconds_over_hard, 30);
  expect_conserved(cluster);
  config.balancer = Balancer::kPooled;  // a queue in front of the pods holds them until the timeout
  Cluster pooled(config);
  pooled.reset(arrivals, 1);
  pooled.advance(30);
  EXPECT_EQ(pooled.totals().dropped, 10.0 * (30 - config.service.timeout_seconds));
  expect_conserved(pooled);
}

// p95 and the share over the soft SLO with one of four pods at half its CPU, after `seconds`.
struct HotSpot {
  double p95_ms, share_over_soft;
};
HotSpot with_one_stressed_pod(Balancer balancer) {
  ClusterConfig config = quiet_config();
  config.balancer = balancer;
  config.initial_replicas = 4;
  config.chaos.stress_per_hour = 60;
  config.chaos.stress_seconds = 3600;
  config.chaos.stress_capacity_loss = 0.5;
  const std::vector<double> arrivals(4000, 4 * 40.0);  // 40 % of a healthy pod's rate each
  for (std::uint64_t seed = 1;; ++seed) {
    Cluster cluster(config);
    cluster.reset(arrivals, seed);
    const auto stressed = [&] {
      return std::count_if(cluster.pods().begin(), cluster.pods().end(),
                           [](const Pod& pod) { return pod.capacity_factor < 1; });
    };
    while (stressed() == 0) cluster.advance(1);
    const auto before = cluster.totals();
    cluster.advance(10);
    if (stressed() != 1) continue;  // a second stress came too soon: another seed
    const auto& totals = cluster.totals();
    return {cluster.last_tick().p95_ms,
            (totals.requests_over_soft - before.requests_over_soft) / (totals.served - before.served)};
  }
}

TEST(ClusterBalancers, AStressedPodIsAHotSpotBehindRandomBalancingNotBehindLeastRequest) {
  // Random: the stressed pod still gets a quarter of the requests at ρ = 0.8; its p95 of ~300 ms dominates.
  const auto random = with_one_stressed_pod(Balancer::kRandom);
  EXPECT_GT(random.p95_ms, *ClusterConfig{}.slo.soft_ms);
  EXPECT_GT(random.share_over_soft, 0.05);
  const auto round_robin = with_one_stressed_pod(Balancer::kRoundRobin);
  EXPECT_GT(round_robin.p95_ms, *ClusterConfig{}.slo.soft_ms);
  // Least request: the slow pod gets less; 160 requests/s on 350 of capacity stays fast.
  const auto least_request = with_one_stressed_pod(Balancer::kLeastRequest);
  EXPECT_LT(least_request.p95_ms, 50);
  EXPECT_LT(least_request.share_over_soft, 0.01);
}

TEST(ClusterPods, NewPodsWarmUpBeforeServingAtFullSpeed) {
  ClusterConfig config = quiet_config();
  config.startup.spread = 0;  // exactly 20 s
  config.warmup = {30, 0.5};
  const std::vector<double> arrivals(200, 150.0);
  Cluster cluster(config);
  cluster.reset(arrivals, 1);
  cluster.set_replicas(3);
  cluster.advance(21);  // ready at 20 s, at 0.5 + 0.5 × 0.5/30 of full speed during its first second
  ASSERT_EQ(cluster.ready_pods(), 3);
  const double speed = 100 * (0.5 + 0.5 * 0.5 / 30);
  const double cold_p95 = cluster.last_tick().p95_ms;
  EXPECT_GT(cold_p95, *config.slo.soft_ms);  // 50 requests/s at ρ ≈ 0.99 on the new pod
  const Pod& newest =
      *std::max_element(cluster.pods().begin(), cluster.pods().end(),
                        [](const Pod& a, const Pod& b) { return a.created_at < b.created_at; });
  EXPECT_NEAR(newest.ready_since, 20, 1e-9);
  EXPECT_GT(50 / speed, 0.98);
  cluster.advance(30);
  // Warm: three M/M/1 queues at 50 of 100 requests/s.
  EXPECT_NEAR(cluster.last_tick().p95_ms, 5 + 1000 * std::log(20.0) / 50, 0.5);
  EXPECT_LT(cluster.last_tick().p95_ms, cold_p95);

  config.warmup.seconds = 0;  // no warm-up: full speed at once
  Cluster instant(config);
  instant.reset(arrivals, 1);
  instant.set_replicas(3);
  instant.advance(21);
  EXPECT_NEAR(instant.last_tick().p95_ms, 5 + 1000 * std::log(20.0) / 50, 0.5);
}

TEST(ClusterPods, EachPodsCpuIsWhatItServed) {
  ClusterConfig config = quiet_config();
  config.service.idle_cpu_cores = 0;
  config.startup.spread = 0;
  config.warmup.seconds = 0;
  const std::vector<double> arrivals(200, 100.0);
  Cluster cluster(config);
  cluster.reset(arrivals, 1);
  cluster.advance(60);
  cluster.set_replicas(4);
  cluster.advance(20);  // the new pods are ready from 80 s
  cluster.advance(10);
  // The old pods served 50/s for 20 s of the window, then 25/s for 10 s; the new ones 25/s for 10 s.
  double old_cpu = 0, new_cpu = 0;
  for (const auto& pod : cluster.pods())
    (pod.created_at < 0 ? old_cpu : new_cpu) += cluster.pod_cpu_cores(pod);
  EXPECT_NEAR(old_cpu, 2 * (20 * 0.5 + 10 * 0.25) / 30, 1e-9);
  EXPECT_NEAR(new_cpu, 2 * (10 * 0.25) / 30, 1e-9);  // 30 s since created: the window is full
  // Their sum is the deployment's CPU over the window.
  EXPECT_NEAR(old_cpu + new_cpu, 1.0, 1e-9);
}

TEST(ClusterPods, EachPodsCpuIsReportedAsOfTheLastScrape) {
  ClusterConfig config = quiet_config();
  config.service.idle_cpu_cores = 0;
  std::vector<double> arrivals(60, 100.0);  // 2 pods at 50/s each, then 100/s each from 60 s
  arrivals.resize(120, 200.0);
  Cluster cluster(config);
  cluster.reset(arrivals, 1);
  const auto cpu = [&] {
    double total = 0;
    for (const auto& pod : cluster.pods()) total += cluster.pod_cpu_cores(pod);
    return total;
  };
  cluster.advance(70);  // scraped at 60: the window up to then, before the rise
  EXPECT_DOUBLE_EQ(cluster.last_scrape_time(), 60);
  EXPECT_NEAR(cpu(), 1.0, 1e-9);
  cluster.advance(5);  // scraped at 75: 15 s of the 30 s window at twice the load
  EXPECT_NEAR(cpu(), (15 * 1.0 + 15 * 2.0) / 30, 1e-9);
}

TEST(ClusterPods, APodThatGetsLessThanItsLimitServesSlowerForTheSameCpu) {
  ClusterConfig config = quiet_config();
  config.service.idle_cpu_cores = 0;
  ClusterConfig slow = config;
  slow.service.service_cores = 0.6;  // a contended node: 0.6 of the pod's 1-core limit
  ASSERT_TRUE(validate(slow).has_value());
  EXPECT_DOUBLE_EQ(slow.service.service_rate(), 60);
  // Latency as if the limit were 0.6 cores, CPU as the requests cost.
  ClusterConfig small = config;
  small.service.cpu_limit_cores = small.service.cpu_request_cores = 0.6;
  EXPECT_DOUBLE_EQ(steady_p95_ms(slow, 2, 80), steady_p95_ms(small, 2, 80));
  EXPECT_GT(steady_p95_ms(slow, 2, 80), 1.5 * steady_p95_ms(config, 2, 80));
  const std::vector<double> arrivals(5, 80.0);
  Cluster cluster(slow);
  cluster.reset(arrivals, 1, 2);
  cluster.advance(2);
  EXPECT_NEAR(cluster.last_tick().cpu_cores, 80 * config.service.cpu_seconds_per_request, 1e-9);
  // 0 is the limit; faster than the limit is refused.
  EXPECT_DOUBLE_EQ(config.service.service_rate(), 100);
  slow.service.service_cores = 1.2;
  EXPECT_FALSE(validate(slow).has_value());
}

TEST(ClusterPods, NewPodsServeAfterTheStartupDelayAndRemovedPodsDrain) {
  ClusterConfig config = quiet_config();
  config.startup.spread = 0;  // exactly 20 s
  config.drain_seconds = 5;
  Cluster cluster(config);
  const std::vector<double> arrivals(100, 10.0);
  cluster.reset(arrivals, 1);
  cluster.set_replicas(5);
  EXPECT_EQ(cluster.replicas(), 5);
  EXPECT_EQ(cluster.ready_pods(), 2);
  EXPECT_EQ(cluster.starting_pods(), 3);
  cluster.advance(20);
  EXPECT_EQ(cluster.ready_pods(), 2);
  cluster.advance(1);
  EXPECT_EQ(cluster.ready_pods(), 5);
  EXPECT_NEAR(cluster.totals().pod_seconds, 21 * 5, 1e-9);
  // Scaling down: pods stop serving at once but are billed while they drain.
  cluster.set_replicas(1);
  EXPECT_EQ(cluster.ready_pods(), 1);
  cluster.advance(5);
  EXPECT_NEAR(cluster.totals().pod_seconds, 21 * 5 + 5 * 5, 1e-9);
  cluster.advance(1);
  EXPECT_NEAR(cluster.totals().pod_seconds, 21 * 5 + 5 * 5 + 1, 1e-9);
  EXPECT_EQ(cluster.pods().size(), 1u);
  EXPECT_EQ(cluster.totals().scaling_actions, 2);
}

TEST(ClusterPods, ScaleDownRemovesStartingPodsFirstAndStaysInBounds) {
  ClusterConfig config = quiet_config();
  config.bounds = {2, 8};
  Cluster cluster(config);
  cluster.reset({}, 1);
  cluster.set_replicas(4);  // 2 ready + 2 starting
  cluster.set_replicas(2);
  EXPECT_EQ(cluster.ready_pods(), 2);
  cluster.set_replicas(100);
  EXPECT_EQ(cluster.replicas(), 8);
  cluster.set_replicas(0);
  EXPECT_EQ(cluster.replicas(), 2);
}

TEST(ClusterPods, StartupDelaysFollowTheirDistributionAndAreKnownAhead) {
  ClusterConfig config = quiet_config();
  config.bounds.max = 500;
  config.startup = {StartupDistribution::kUniform, 30, 0.5};
  Cluster cluster(config);
  cluster.reset({}, 3);
  const double first = cluster.upcoming_startup_delay(0);
  EXPECT_GE(first, 15);
  EXPECT_LE(first, 45);
  cluster.set_replicas(3);  // one new pod: it gets the announced delay
  const auto& pod = cluster.pods().back();
  EXPECT_DOUBLE_EQ(pod.transition_at - pod.created_at, first);
}

TEST(ClusterMetrics, ObservationIsWhatPrometheusWouldReturnFromTheScrapes) {
  ClusterConfig config = quiet_config();
  config.service.idle_cpu_cores = 0;
  std::vector<double> arrivals(60, 100.0);
  arrivals.resize(120, 0.0);
  Cluster cluster(config);
  cluster.reset(arrivals, 1);
  EXPECT_EQ(cluster.observe().rps, 0);  // one scrape: no rate yet
  cluster.advance(60);
  auto observation = cluster.observe();
  EXPECT_NEAR(observation.cpu_usage, 100, 1e-9);  // 100 req/s × 10 ms = one core = 100 %
  EXPECT_NEAR(observation.rps, 100, 1e-9);
  EXPECT_EQ(observation.replicas, 2);
  EXPECT_GT(observation.memory_usage, 2 * config.service.memory_base_bytes);
  EXPECT_LT(observation.memory_usage,
            2 * config.service.memory_base_bytes + 10 * config.service.memory_per_request_bytes);
  // True p95 of two M/M/1 queues at ρ = 0.5: 65 ms, in the (50, 75] ms bucket; histogram_quantile
  // interpolates linearly within it.
  EXPECT_NEAR(cluster.last_tick().p95_ms, 5 + 1000 * std::log(20.0) / 50, 0.1);
  EXPECT_NEAR(observation.latency, cluster.last_tick().p95_ms, 0.1 * cluster.last_tick().p95_ms);
  EXPECT_GT(observation.latency, 50);
  EXPECT_LE(observation.latency, 75);
  // 15 s after the traffic stopped the window (45, 75] holds the scrapes at 60 and 75 s: nothing between
  // them. The histogram is empty: the latency keeps its last value.
  cluster.advance(15);
  const double last_latency = observation.latency;
  observation = cluster.observe();
  EXPECT_EQ(observation.rps, 0);
  EXPECT_EQ(observation.cpu_usage, 0);
  EXPECT_EQ(observation.latency, last_latency);
}

TEST(ClusterMetrics, RateExtrapolatesToTheWindowAsPrometheusDoes) {
  ClusterConfig config = quiet_config();
  config.service.idle_cpu_cores = 0;
  config.metrics.window_seconds = 60;
  std::vector<double> arrivals(45, 60.0);
  arrivals.resize(90, 0.0);
  Cluster cluster(config);
  cluster.reset(arrivals, 1);
  cluster.advance(70);
  // The range (10, 70] holds the scrapes at 15, 30, 45 and 60 s: 1800 requests over the 45 s between the
  // first and last, extended by the 5 s and 10 s gaps to the range's edges (both under 1.1 × 15 s) to 60 s.
  EXPECT_NEAR(cluster.observe().rps, 1800.0 * 60 / 45 / 60, 1e-9);
}

TEST(ClusterChaos, KilledPodsComeBackAfterTheRestartDelay) {
  ClusterConfig config = quiet_config();
  config.initial_replicas = 10;
  config.chaos.pod_kills_per_hour = 360;  // one every 10 s on average
  config.chaos.restart_seconds = 15;
  const std::vector<double> arrivals(3600, 300.0);
  Cluster cluster(config);
  cluster.reset(arrivals, 5);
  int lowest = 10;
  double ready_seconds = 0;
  for (int t = 0; t < 3600; ++t) {
    cluster.advance(1);
    lowest = std::min(lowest, cluster.ready_pods());
    ready_seconds += cluster.ready_pods();
    EXPECT_EQ(cluster.replicas(), 10);
  }
  EXPECT_LT(lowest, 10);
  // Little's law: 0.1 kills/s × 15 s restart = 1.5 pods down on average.
  EXPECT_NEAR(ready_seconds / 3600, 8.5, 0.4);
  expect_conserved(cluster);
}

TEST(ClusterChaos, StressedPodsServeLessAndReportTheStolenCpu) {
  ClusterConfig config = quiet_config();
  config.service.idle_cpu_cores = 0;
  config.initial_replicas = 1;
  config.chaos.stress_per_hour = 3600 * 10;  // at once
  config.chaos.stress_seconds = 1000;
  config.chaos.stress_capacity_loss = 0.5;
  const std::vector<double> arrivals(40, 80.0);
  Cluster cluster(config);
  cluster.reset(arrivals, 1);
  cluster.advance(40);
  // 50 requests/s left: the backlog grows by 30 a second.
  EXPECT_GT(cluster.queued(), 200);
  EXPECT_NEAR(cluster.last_tick().cpu_cores, 1.0, 1e-9);  // 0.5 stress + 0.5 serving
}

TEST(ClusterDeterminism, SameSeedSameRunDifferentSeedDifferentChaos) {
  for (const Balancer balancer : {Balancer::kRandom, Balancer::kPooled}) {
    ClusterConfig config;
    config.balancer = balancer;
    config.chaos.pod_kills_per_hour = 30;
    config.chaos.stress_per_hour = 30;
    config.initial_replicas = 4;
    const std::vector<double> arrivals(2000, 330.0);
    const auto run = [&](std::uint64_t seed) {
      Cluster cluster(config);
      cluster.reset(arrivals, seed);
      std::vector<double> trace;
      for (int step = 0; step < 130; ++step) {
        cluster.advance(15);
        const auto o = cluster.observe();
        const auto& totals = cluster.totals();
        trace.insert(trace.end(), {o.cpu_usage, o.memory_usage, o.latency, o.rps, totals.dropped,
                                   totals.requests_over_soft, cluster.last_tick().p95_ms});
        cluster.set_replicas(3 + step % 4);
      }
      return trace;
    };
    EXPECT_EQ(run(9), run(9));
    EXPECT_NE(run(9), run(10));
  }
}

RC_GTEST_PROP(ClusterProperties, RequestsAreConservedEverySecondAndPodsStayInBounds, ()) {
  ClusterConfig config;
  config.balancer =
      *rc::gen::element(Balancer::kRandom, Balancer::kRoundRobin, Balancer::kLeastRequest, Balancer::kPooled);
  if (*rc::gen::arbitrary<bool>()) {
    config.service.service_time = ServiceTimeDistribution::kLogNormal;
    config.service.service_time_cv = *rc::gen::element(0.5, 1.0, 2.0);
  }
  config.bounds = {*rc::gen::inRange(0, 3), *rc::gen::inRange(3, 30)};
  config.initial_replicas = config.bounds.min;
  config.chaos.pod_kills_per_hour = *rc::gen::inRange(0, 600);
  config.chaos.stress_per_hour = *rc::gen::inRange(0, 600);
  config.startup.median_seconds = *rc::gen::inRange(0, 60);
  RC_ASSERT(validate(config).has_value());
  const auto arrivals = *rc::gen::container<std::vector<double>>(
      300, rc::gen::map(rc::gen::inRange(0, 4000), [](int a) { return static_cast<double>(a); }));
  Cluster cluster(config);
  cluster.reset(arrivals, *rc::gen::arbitrary<std::uint64_t>());
  for (int step = 0; step < 20; ++step) {
    cluster.set_replicas(*rc::gen::inRange(-5, 40));
    for (int second = 0; second < 15; ++second) {
      cluster.advance(1);
      const auto& totals = cluster.totals();
      RC_ASSERT(std::abs(totals.arrivals - totals.served - totals.dropped - cluster.queued()) <=
                1e-6 * (1 + totals.arrivals));
      RC_ASSERT(totals.requests_over_hard <= totals.requests_over_soft + 1e-6);
      RC_ASSERT(totals.requests_over_soft <= totals.served + 1e-6);
    }
    RC_ASSERT(cluster.replicas() >= config.bounds.min);
    RC_ASSERT(cluster.replicas() <= config.bounds.max);
    RC_ASSERT(cluster.ready_pods() <= cluster.replicas());
    RC_ASSERT(cluster.queued() >= -1e-6);
    RC_ASSERT(std::isfinite(cluster.last_tick().p95_ms));
    const auto o = cluster.observe();
    RC_ASSERT(core::validate(o).has_value());
  }
}

}  // namespace
}  // namespace maestro::sim
