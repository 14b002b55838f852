// kube::KubeClient against local::FakeKubeApi over HTTP on loopback: the real paths and JSON shapes,
// resourceVersion conflicts, Status errors mapped to their kinds, pagination, events, faults, token rotation.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/clock.hpp"
#include "kube/client.hpp"
#include "kube/config.hpp"
#include "kube/custom_resources.hpp"
#include "kube/watch.hpp"
#include "local/fake_kube_api.hpp"
#include "net/http_server.hpp"

namespace maestro {
namespace {

using namespace std::chrono_literals;
using kube::KubeErrorKind;

class KubeClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto web = local::fake_deployment("shop", "web", 3);
    web.labels = {{"app", "web"}};
    web.annotations = {{"maestro.io/autoscale", "true"}, {"latencySoftConstraint", "200"}};
    web.cpu_limit_cores = 0.25;
    api.put_deployment(web);
    ASSERT_TRUE(api.start().has_value());
  }

  kube::KubeClient client(std::string token = "test-token", std::chrono::milliseconds timeout = 2000ms) {
    net::HttpClientOptions options;
    options.base_url = api.url();
    options.total_timeout = timeout;
    options.retry.max_attempts = 1;
    options.bearer_token = [token]() -> Result<std::string> { return token; };
    return kube::KubeClient(options);
  }

  local::FakeKubeApi api{"test-token"};
};

TEST_F(KubeClientTest, GetsADeploymentWithItsAnnotationsAndVersion) {
  auto kube = client();
  auto deployment = kube.get_deployment("shop", "web");
  ASSERT_TRUE(deployment.has_value()) << deployment.error().message;
  EXPECT_EQ(deployment->name, "web");
  EXPECT_EQ(deployment->namespace_, "shop");
  EXPECT_EQ(deployment->replicas, 3);
  EXPECT_EQ(deployment->labels.at("app"), "web");
  EXPECT_EQ(deployment->annotations.at("latencySoftConstraint"), "200");
  EXPECT_EQ(deployment->resource_version, api.resource_version("shop", "web"));
  EXPECT_FALSE(deployment->uid.empty());
  // What one pod requests: its template's container has only a limit, which the request defaults to.
  EXPECT_EQ(deployment->cpu_request_m, 250);
  api.put_deployment(local::fake_deployment("shop", "bare", 1));
  EXPECT_EQ(kube.get_deployment("shop", "bare")->cpu_request_m, std::nullopt);
}

// A MaestroAutoscaler's target of another kind: its resource found by kind (apps/v1's directly, others
// through discovery, as the HPA's REST mapper does), its scale read and patched with the version read.
TEST_F(KubeClientTest, FindsAKindsScaleSubresourceAndScalesAStatefulSet) {
  auto cache = local::fake_deployment("shop", "cache", 2);
  cache.kind = "StatefulSet";
  api.put_deployment(cache);
  auto kube = client();
  auto statefulsets = kube::scalable_resource(kube, "apps/v1", "StatefulSet");
  ASSERT_TRUE(statefulsets.has_value()) << statefulsets.error().message;
  EXPECT_EQ(statefulsets->resource, "statefulsets");
  auto by_discovery = kube::scalable_resource(kube, "apps/v1", "Deployment");
  ASSERT_TRUE(by_discovery.has_value()) << by_discovery.error().message;
  EXPECT_EQ(by_discovery->group, "apps");
  EXPECT_EQ(by_discovery->resource, "deployments");
  EXPECT_EQ(kube::scalable_resource(kube, "apps/v1", "DaemonSet").error().kind, KubeErrorKind::kNotFound);
  EXPECT_EQ(kube::scalable_resource(kube, "v1", "Event").error().kind, KubeErrorKind::kInvalid)
      << "events have no scale subresource";
  EXPECT_EQ(kube::scalable_resource(kube, "example.com/v1/x", "Widget").error().kind,
            KubeErrorKind::kInvalid);

  auto scale = kube::get_workload_scale(kube, *statefulsets, "shop", "cache");
  ASSERT_TRUE(scale.has_value()) << scale.error().message;
  EXPECT_EQ(scale->replicas, 2);
  EXPECT_EQ(scale->selector, "app=cache");
  auto patched = kube::patch_workload_scale(kube, *statefulsets, "shop", "cache", 4, scale->resource_version);
  ASSERT_TRUE(patched.has_value()) << patched.error().message;
  EXPECT_EQ(api.replicas("shop", "cache"), 4);
  EXPECT_EQ(kube::patch_workload_scale(kube, *statefulsets, "shop", "cache", 5, scale->resource_version)
                .error()
                .kind,
            KubeErrorKind::kConflict);
  EXPECT_EQ(kube::get_workload_scale(kube, *statefulsets, "shop", "web").error().kind,
            KubeErrorKind::kNotFound)
      << "web is a Deployment, not a StatefulSet";
  EXPECT_EQ(kube.get_scale("shop", "web")->replicas, 3);
}

TEST_F(KubeClientTest, PatchesTheScaleWithTheVersionReadAndIsRefusedWithAStaleOne) {
  auto kube = client();
  auto scale = kube.get_scale("shop", "web");
  ASSERT_TRUE(scale.has_value()) << scale.error().message;
  EXPECT_EQ(scale->replicas, 3);
  EXPECT_EQ(scale->selector, "app=web");

  auto patched = kube.patch_scale("shop", "web", 5, scale->resource_version);
  ASSERT_TRUE(patched.has_value()) << patched.error().message;
  EXPECT_EQ(patched->replicas, 5);
  EXPECT_NE(patched->resource_version, scale->resource_version);
  EXPECT_EQ(api.replicas("shop", "web"), 5);

  auto stale = kube.patch_scale("shop", "web", 7, scale->resource_version);
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().kind, KubeErrorKind::kConflict);
  EXPECT_EQ(stale.error().http_status, 409);
  EXPECT_EQ(stale.error().reason, "Conflict");
  EXPECT_NE(stale.error().message.find("the object has been modified"), std::string::npos);
  EXPECT_EQ(api.replicas("shop", "web"), 5) << "a refused patch changed the deployment";

  ASSERT_EQ(api.scale_writes().size(), 1u);
  EXPECT_EQ(api.scale_writes()[0].from, 3);
  EXPECT_EQ(api.scale_writes()[0].to, 5);
}

TEST_F(KubeClientTest, MapsStatusErrorsToKinds) {
  auto kube = client();
  auto missing = kube.get_scale("shop", "nope");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().kind, KubeErrorKind::kNotFound);
  EXPECT_EQ(missing.error().reason, "NotFound");

  auto unauthorized = client("wrong-token").get_scale("shop", "web");
  ASSERT_FALSE(unauthorized.has_value());
  EXPECT_EQ(unauthorized.error().kind, KubeErrorKind::kUnauthorized);

  const std::pair<local::KubeFault, KubeErrorKind> faults[] = {
      {local::KubeFault::kForbidden, KubeErrorKind::kForbidden},
      {local::KubeFault::kGone, KubeErrorKind::kGone},
      {local::KubeFault::kServerError, KubeErrorKind::kServerError},
      {local::KubeFault::kConflict, KubeErrorKind::kConflict},
      {local::KubeFault::kNotFound, KubeErrorKind::kNotFound}};
  for (const auto& [fault, kind] : faults) {
    api.inject(local::FaultRule::next(1, fault));
    auto failed = kube.get_scale("shop", "web");
    ASSERT_FALSE(failed.has_value());
    EXPECT_EQ(failed.error().kind, kind) << failed.error().message;
    EXPECT_TRUE(kube.get_scale("shop", "web").has_value()) << "a fault for one request outlived it";
  }
}

TEST_F(KubeClientTest, TimesOutOnAHangingServerAndWorksOnceItIsCleared) {
  auto kube = client("test-token", 300ms);
  api.inject(local::FaultRule::until_cleared(local::KubeFault::kHang, "", "/scale"));
  auto hung = kube.get_scale("shop", "web");
  ASSERT_FALSE(hung.has_value());
  EXPECT_EQ(hung.error().kind, KubeErrorKind::kTimeout);
  api.clear_faults();
  EXPECT_TRUE(kube.get_scale("shop", "web").has_value());
}

TEST_F(KubeClientTest, ListsAnnotatedDeploymentsAcrossPages) {
  for (int i = 0; i < 1200; ++i) {
    auto deployment = local::fake_deployment(i % 2 ? "a" : "b", fmt::format("d{}", i));
    if (i % 3 == 0) deployment.annotations["maestro.io/autoscale"] = "true";
    if (i % 3 == 1) deployment.annotations["maestro.io/autoscale"] = "false";
    api.put_deployment(deployment);
  }
  auto kube = client();
  auto all = kube.list_deployments_annotated("", "maestro.io/autoscale", "true");
  ASSERT_TRUE(all.has_value()) << all.error().message;
  EXPECT_EQ(all->size(), 400u + 1u);  // every third, plus shop/web
  auto in_b = kube.list_deployments_annotated("b", "maestro.io/autoscale", "true");
  ASSERT_TRUE(in_b.has_value());
  EXPECT_EQ(in_b->size(), 200u);
  for (const auto& deployment : *in_b) EXPECT_EQ(deployment.namespace_, "b");

  api.inject(local::FaultRule::next(1, local::KubeFault::kGone, "GET", "deployments"));
  auto expired = kube.list_deployments_annotated("", "maestro.io/autoscale", "true");
  ASSERT_FALSE(expired.has_value());
  EXPECT_EQ(expired.error().kind, KubeErrorKind::kGone);
}

TEST_F(KubeClientTest, CreatesAnEventOnTheDeployment) {
  auto kube = client();
  kube::DeploymentEvent event;
  event.namespace_ = "shop";
  event.deployment = "web";
  event.deployment_uid = "uid-1";
  event.reason = "SuccessfulRescale";
  event.message = "New size: 4";
  ASSERT_TRUE(kube.create_event(event).has_value());
  const auto events = api.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].namespace_, "shop");
  EXPECT_EQ(events[0].involved_name, "web");
  EXPECT_EQ(events[0].involved_kind, "Deployment");
  EXPECT_EQ(events[0].reason, "SuccessfulRescale");
  EXPECT_EQ(events[0].type, "Normal");
  EXPECT_EQ(events[0].component, "maestro-controller");
  EXPECT_NE(events[0].body.find("\"firstTimestamp\""), std::string::npos);
}

TEST_F(KubeClientTest, PicksUpARotatedTokenFile) {
  const auto dir = std::filesystem::temp_directory_path() / ("maestro-token-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "token") << "test-token";
  base::ManualClock clock;
  kube::ClusterConfig cluster;
  cluster.server = api.url();
  cluster.token_file = dir / "token";
  auto options = kube::http_options(cluster, clock);
  ASSERT_TRUE(options.has_value());
  options->retry.max_attempts = 1;
  kube::KubeClient kube(*options);
  ASSERT_TRUE(kube.get_scale("shop", "web").has_value());

  api.set_token("rotated");
  std::ofstream(dir / "token") << "rotated";
  EXPECT_EQ(kube.get_scale("shop", "web").error().kind, KubeErrorKind::kUnauthorized)
      << "token re-read too early";
  clock.advance(net::TokenFile::kDefaultRefresh);
  EXPECT_TRUE(kube.get_scale("shop", "web").has_value());
  std::filesystem::remove_all(dir);
}

// Replica counts are Kubernetes' int32: a larger one is a malformed answer, never truncated (2^32 + 3 used to
// read as 3).
// A watch as client-go's reflector makes one: from the resourceVersion of a list, every later change of
// that namespace's MaestroAutoscalers (the local API ends a watch once it has something to say, so the
// client watches again from the last version it saw); a version older than the API keeps is 410 Gone; and a
// quiet watch ends when the client says stop.
TEST_F(KubeClientTest, WatchesFromAListsVersionUntilToldItIsTooOld) {
  auto kube = client("test-token", 40000ms);
  const auto post = [&](const std::string& ns, const std::string& name) {
    const nlohmann::json object = {{"apiVersion", "autoscaling.maestro.io/v1alpha1"},
                                   {"kind", "MaestroAutoscaler"},
                                   {"metadata", {{"name", name}, {"namespace", ns}}},
                                   {"spec", {{"minReplicas", 1}}}};
    return api
        .handle({"POST", "/apis/autoscaling.maestro.io/v1alpha1/namespaces/" + ns + "/maestroautoscalers", "",
                 "Bearer test-token", "application/json", "", object.dump()})
        .status;
  };
  ASSERT_EQ(post("shop", "first"), 201);
  const auto listed = kube::list_objects(kube, kube::kMaestroAutoscalers, "shop");
  ASSERT_TRUE(listed.has_value()) << listed.error().message;
  std::vector<std::string> seen;
  std::string version = listed->resource_version;
  std::thread writer([&] {
    post("shop", "second");
    post("elsewhere", "other");  // another namespace: not this watch's
    api.handle({"PATCH", "/apis/autoscaling.maestro.io/v1alpha1/namespaces/shop/maestroautoscalers/first", "",
                "Bearer test-token", "application/merge-patch+json", "", R"({"spec":{"minReplicas":2}})"});
    api.handle({"DELETE", "/apis/autoscaling.maestro.io/v1alpha1/namespaces/shop/maestroautoscalers/second",
                "", "Bearer test-token", "", "", ""});
  });
  for (int watches = 0; watches < 10 && seen.size() < 3; ++watches) {
    auto watched = kube::watch_objects(
        kube, kube::kMaestroAutoscalers, "shop", {version, 20, {}}, [&](const kube::WatchEvent& event) {
          seen.push_back(event.type + " " + event.object["metadata"].value("name", ""));
        });
    ASSERT_TRUE(watched.has_value()) << watched.error().message;
    version = *watched;
  }
  writer.join();
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED second", "MODIFIED first", "DELETED second"}));

  // Past the changes the API keeps: the list's version is too old to watch from.
  for (int i = 0; i < 1000; ++i)
    api.handle({"PATCH", "/apis/autoscaling.maestro.io/v1alpha1/namespaces/shop/maestroautoscalers/first", "",
                "Bearer test-token", "application/merge-patch+json", "",
                nlohmann::json{{"spec", {{"minReplicas", 1 + i % 2}}}}.dump()});
  auto gone = kube::watch_objects(kube, kube::kMaestroAutoscalers, "shop", {listed->resource_version, 20, {}},
                                  [](const kube::WatchEvent&) {});
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().kind, KubeErrorKind::kGone);

  // Nothing happens; the client stops the watch itself.
  const auto from = kube::list_objects(kube, kube::kMaestroAutoscalers, "shop")->resource_version;
  std::atomic<bool> stop = false;
  std::thread stopper([&] {
    std::this_thread::sleep_for(300ms);  // the watch is waiting by then; the test is that it ends on request
    stop = true;
  });
  int events = 0;
  auto stopped =
      kube::watch_objects(kube, kube::kMaestroAutoscalers, "shop", {from, 20, [&] { return !stop; }},
                          [&](const kube::WatchEvent&) { ++events; });
  stopper.join();
  ASSERT_TRUE(stopped.has_value()) << stopped.error().message;
  EXPECT_EQ(*stopped, from);
  EXPECT_EQ(events, 0);
}

TEST(KubeParse, RefusesReplicaCountsOutOfRangeRatherThanTruncatingThem) {
  const auto scale = [](const std::string& replicas) {
    return kube::parse_scale(fmt::format(
        R"({{"kind":"Scale","metadata":{{"name":"web","resourceVersion":"7"}},"spec":{{"replicas":{}}}}})",
        replicas));
  };
  EXPECT_EQ(scale("3")->replicas, 3);
  EXPECT_EQ(scale("2147483647")->replicas, 2147483647);
  for (const char* bad : {"4294967299", "2147483648", "-1", "3.5", "1e300", "\"3\""}) {
    auto refused = scale(bad);
    ASSERT_FALSE(refused.has_value()) << bad;
    EXPECT_EQ(refused.error().kind, KubeErrorKind::kBadResponse) << bad;
    EXPECT_NE(refused.error().message.find("spec.replicas is not a replica count"), std::string::npos);
  }
  auto deployment = kube::parse_deployment(
      R"({"kind":"Deployment","metadata":{"name":"web","namespace":"shop"},"spec":{"replicas":4294967299}})");
  ASSERT_FALSE(deployment.has_value());
  EXPECT_NE(deployment.error().message.find("spec.replicas"), std::string::npos);
  auto ready = kube::parse_deployment(
      R"({"kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":2},"status":{"readyReplicas":-2}})");
  ASSERT_FALSE(ready.has_value());
  EXPECT_NE(ready.error().message.find("status.readyReplicas"), std::string::npos);
}

// A field of the wrong type is a malformed answer, not an exception: {"kind": 5} used to end the controller
// through nlohmann's value() (found by fuzz/kube_response).
TEST(KubeParse, RefusesFieldsOfTheWrongTypeWithoutThrowing) {
  for (const char* body : {R"({"kind":5})", R"([1])", R"({"kind":"Deployment","metadata":"web"})"})
    EXPECT_EQ(kube::parse_deployment(body).error().kind, KubeErrorKind::kBadResponse) << body;
  EXPECT_EQ(kube::parse_scale(R"({"kind":["Scale"]})").error().kind, KubeErrorKind::kBadResponse);
  EXPECT_FALSE(kube::parse_scale(R"({"kind":"Scale","metadata":3,"spec":{"replicas":2}})").has_value());
  const auto error = kube::error_from_response({409, {}, R"({"kind":{"a":1},"reason":5})"}, "patch");
  EXPECT_EQ(error.kind, KubeErrorKind::kConflict);
  EXPECT_EQ(error.reason, "");
}

// A server whose continue token never ends is given up on after a bounded number of pages.
TEST(KubeList, GivesUpOnAContinueTokenThatNeverEnds) {
  net::HttpServer endless;
  std::atomic<int> pages{0};
  endless.route("GET", "/apis/apps/v1/deployments",
                [&](const net::HttpRequest&, net::HttpResponse& response) {
                  ++pages;
                  response = net::json_response(
                      200, R"({"kind":"DeploymentList","metadata":{"continue":"again"},"items":[]})");
                });
  auto port = endless.listen("127.0.0.1:0");
  ASSERT_TRUE(port.has_value());
  endless.start();
  net::HttpClientOptions options;
  options.base_url = fmt::format("http://127.0.0.1:{}", *port);
  options.retry.max_attempts = 1;
  kube::KubeClient kube(options);
  auto listed = kube.list_deployments_annotated("", "maestro.io/autoscale", "true");
  ASSERT_FALSE(listed.has_value());
  EXPECT_EQ(listed.error().kind, KubeErrorKind::kBadResponse);
  EXPECT_NE(listed.error().message.find("continue token never ends"), std::string::npos);
  EXPECT_EQ(pages.load(), 1000);
}

}  // namespace
}  // namespace maestro
