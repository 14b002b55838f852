// The local Kubernetes API as a function of one request: path parsing, label selectors, discovery, patches
// of every kind kubectl sends, the scale subresource's PUT with resourceVersion, Tables and events.
#include <gtest/gtest.h>

#include <thread>

#include <nlohmann/json.hpp>

#include "local/fake_kube_api.hpp"
#include "local/kube_path.hpp"

namespace maestro::local {
namespace {

using nlohmann::json;

TEST(KubePath, ReadsResourcesAndDiscoveryPaths) {
  const auto scale = parse_kube_path("/apis/apps/v1/namespaces/shop/deployments/web/scale");
  EXPECT_EQ(scale.kind, KubePathKind::kResource);
  EXPECT_EQ(scale.group_version(), "apps/v1");
  EXPECT_EQ(scale.namespace_, "shop");
  EXPECT_EQ(scale.resource, "deployments");
  EXPECT_EQ(scale.name, "web");
  EXPECT_EQ(scale.subresource, "scale");

  const auto events = parse_kube_path("/api/v1/events");
  EXPECT_EQ(events.kind, KubePathKind::kResource);
  EXPECT_EQ(events.group_version(), "v1");
  EXPECT_TRUE(events.namespace_.empty());
  EXPECT_EQ(events.resource, "events");

  EXPECT_EQ(parse_kube_path("/version").kind, KubePathKind::kVersion);
  EXPECT_EQ(parse_kube_path("/api").kind, KubePathKind::kLegacyGroup);
  EXPECT_EQ(parse_kube_path("/apis").kind, KubePathKind::kGroups);
  EXPECT_EQ(parse_kube_path("/apis/apps/v1").kind, KubePathKind::kResourceList);
  EXPECT_EQ(parse_kube_path("/healthz/x").kind, KubePathKind::kUnknown);
  EXPECT_EQ(parse_kube_path("/apis/apps/v1/namespaces/a/deployments/b/scale/c").kind, KubePathKind::kUnknown);
}

TEST(KubePath, DecodesQueryValues) {
  EXPECT_EQ(query_value("limit=5&labelSelector=app%3Dweb%2Ctier%21%3Ddb", "labelSelector"),
            "app=web,tier!=db");
  EXPECT_EQ(query_value("limit=5", "continue"), "");
}

TEST(LabelSelector, MatchesEqualityRequirements) {
  LabelSelector selector;
  ASSERT_TRUE(LabelSelector::parse("app=web, tier!=db,canary,!legacy", selector));
  EXPECT_TRUE(selector.matches({{"app", "web"}, {"canary", ""}}));
  EXPECT_FALSE(selector.matches({{"app", "web"}, {"canary", ""}, {"tier", "db"}}));
  EXPECT_FALSE(selector.matches({{"app", "web"}}));
  EXPECT_FALSE(selector.matches({{"app", "web"}, {"canary", ""}, {"legacy", "1"}}));
  ASSERT_TRUE(LabelSelector::parse("app==web", selector));
  EXPECT_TRUE(selector.matches({{"app", "web"}}));
  ASSERT_TRUE(LabelSelector::parse("", selector));
  EXPECT_TRUE(selector.matches({}));
  EXPECT_FALSE(LabelSelector::parse("env in (a,b)", selector));
}

class KubeApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto web = fake_deployment("shop", "web", 2);
    web.labels = {{"app", "web"}, {"tier", "front"}};
    api_.put_deployment(web);
    auto db = fake_deployment("shop", "db", 1);
    db.labels = {{"app", "db"}};
    api_.put_deployment(db);
  }

  KubeResponse request(std::string method, std::string path, std::string body = "",
                       std::string content_type = "application/merge-patch+json", std::string accept = "") {
    const auto query_at = path.find('?');
    std::string query = query_at == std::string::npos ? "" : path.substr(query_at + 1);
    if (query_at != std::string::npos) path.resize(query_at);
    return api_.handle({std::move(method), std::move(path), std::move(query), "", std::move(content_type),
                        std::move(accept), std::move(body)});
  }

  FakeKubeApi api_{""};
};

TEST_F(KubeApiTest, AnswersDiscoveryAsTheLegacyDocuments) {
  const auto groups = json::parse(request("GET", "/apis").body);
  EXPECT_EQ(groups["kind"], "APIGroupList");
  EXPECT_EQ(groups["groups"][0]["preferredVersion"]["groupVersion"], "apps/v1");
  const auto apps = json::parse(request("GET", "/apis/apps/v1").body);
  EXPECT_EQ(apps["kind"], "APIResourceList");
  EXPECT_EQ(apps["resources"][0]["name"], "deployments");
  EXPECT_EQ(apps["resources"][0]["shortNames"][0], "deploy");
  EXPECT_EQ(apps["resources"][1]["name"], "deployments/scale");
  EXPECT_EQ(apps["resources"][1]["group"], "autoscaling");
  EXPECT_EQ(json::parse(request("GET", "/api/v1").body)["resources"][0]["kind"], "Event");
  EXPECT_EQ(json::parse(request("GET", "/api").body)["versions"][0], "v1");
  EXPECT_EQ(request("GET", "/apis/batch/v1").status, 404);
  EXPECT_EQ(apps["resources"][2]["name"], "statefulsets");
  EXPECT_EQ(apps["resources"][3]["name"], "statefulsets/scale");
  EXPECT_EQ(request("GET", "/apis/apps/v1/namespaces/shop/replicasets").status, 404);
}

// StatefulSets are stored and scaled as Deployments are, under their own resource and kind.
TEST_F(KubeApiTest, ServesStatefulSetsAndTheirScale) {
  FakeDeployment cache = fake_deployment("shop", "cache", 2);
  cache.kind = "StatefulSet";
  api_.put_deployment(cache);
  const auto list = json::parse(request("GET", "/apis/apps/v1/namespaces/shop/statefulsets").body);
  EXPECT_EQ(list["kind"], "StatefulSetList");
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["kind"], "StatefulSet");
  const auto scale =
      json::parse(request("GET", "/apis/apps/v1/namespaces/shop/statefulsets/cache/scale").body);
  EXPECT_EQ(scale["spec"]["replicas"], 2);
  EXPECT_EQ(scale["status"]["selector"], "app=cache");
  EXPECT_EQ(request("PATCH", "/apis/apps/v1/namespaces/shop/statefulsets/cache/scale",
                    R"({"spec": {"replicas": 3}})")
                .status,
            200);
  EXPECT_EQ(api_.replicas("shop", "cache"), 3);
  const auto missing = request("GET", "/apis/apps/v1/namespaces/shop/deployments/cache/scale");
  EXPECT_EQ(missing.status, 404) << "a StatefulSet is not a Deployment";
  EXPECT_NE(json::parse(request("GET", "/apis/apps/v1/namespaces/shop/statefulsets/nope").body)["message"]
                .get<std::string>()
                .find("statefulsets.apps \"nope\" not found"),
            std::string::npos);
}

TEST_F(KubeApiTest, ListsByLabelSelector) {
  const auto fronts =
      json::parse(request("GET", "/apis/apps/v1/deployments?labelSelector=tier%3Dfront").body);
  ASSERT_EQ(fronts["items"].size(), 1u);
  EXPECT_EQ(fronts["items"][0]["metadata"]["name"], "web");
  EXPECT_EQ(
      json::parse(request("GET", "/apis/apps/v1/namespaces/shop/deployments?labelSelector=app").body)["items"]
          .size(),
      2u);
  EXPECT_EQ(request("GET", "/apis/apps/v1/deployments?labelSelector=app%20in%20(a)").status, 400);
}

TEST_F(KubeApiTest, PutsTheScaleOnlyAtTheCurrentVersion) {
  const auto scale = json::parse(request("GET", "/apis/apps/v1/namespaces/shop/deployments/web/scale").body);
  json stale = scale;
  stale["spec"]["replicas"] = 5;
  stale["metadata"]["resourceVersion"] = "1";
  const auto refused =
      request("PUT", "/apis/apps/v1/namespaces/shop/deployments/web/scale", stale.dump(), "application/json");
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(json::parse(refused.body)["reason"], "Conflict");
  EXPECT_EQ(api_.replicas("shop", "web"), 2);

  json current = scale;
  current["spec"]["replicas"] = 5;
  const auto accepted = request("PUT", "/apis/apps/v1/namespaces/shop/deployments/web/scale", current.dump(),
                                "application/json");
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  EXPECT_EQ(json::parse(accepted.body)["spec"]["replicas"], 5);
  EXPECT_EQ(api_.replicas("shop", "web"), 5);
  ASSERT_EQ(api_.scale_writes().size(), 1u);
  EXPECT_EQ(api_.scale_writes()[0].to, 5);
}

TEST_F(KubeApiTest, PatchesDeploymentsWithEveryPatchType) {
  const std::string path = "/apis/apps/v1/namespaces/shop/deployments/web";
  ASSERT_EQ(request("PATCH", path, R"({"metadata":{"annotations":{"a":"1","b":"2"}}})",
                    "application/strategic-merge-patch+json")
                .status,
            200);
  ASSERT_EQ(request("PATCH", path, R"({"metadata":{"annotations":{"a":null}}})").status, 200);
  ASSERT_EQ(request("PATCH", path, R"([{"op":"replace","path":"/spec/replicas","value":4}])",
                    "application/json-patch+json")
                .status,
            200);
  const auto web = api_.deployment("shop", "web");
  EXPECT_EQ(web->annotations, (std::map<std::string, std::string>{{"b", "2"}}));
  EXPECT_EQ(web->replicas, 4);
  EXPECT_EQ(request("PATCH", path, R"({"metadata":{"resourceVersion":"1","labels":{"x":"y"}}})").status, 409);
  EXPECT_EQ(request("PATCH", path, R"({"spec":{"replicas":-1}})").status, 422);
  EXPECT_EQ(request("PATCH", path, R"({"metadata":{"annotations":{"a":1}}})").status, 422);
  EXPECT_EQ(request("PATCH", path, "{}", "application/apply-patch+yaml").status, 415);
  EXPECT_EQ(request("PUT", path, "{}").status, 405);
}

TEST_F(KubeApiTest, PrintsATableWhenAskedForOne) {
  api_.set_status("shop", "web", {.replicas = 2, .ready_replicas = 1, .available_replicas = 1});
  const auto answer = request("GET", "/apis/apps/v1/namespaces/shop/deployments", "", "",
                              "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
  const auto table = json::parse(answer.body);
  ASSERT_EQ(table["kind"], "Table") << answer.body;
  EXPECT_EQ(table["columnDefinitions"][1]["name"], "Ready");
  ASSERT_EQ(table["rows"].size(), 2u);
  const auto& web = table["rows"][1];
  EXPECT_EQ(web["cells"][0], "web");
  EXPECT_EQ(web["cells"][1], "1/2");
  EXPECT_EQ(web["object"]["kind"], "PartialObjectMetadata");
  EXPECT_EQ(web["object"]["metadata"]["namespace"], "shop");
  EXPECT_EQ(json::parse(request("GET", "/apis/apps/v1/namespaces/shop/deployments").body)["kind"],
            "DeploymentList");
}

TEST_F(KubeApiTest, StatusReflectsWhatThePodsDo) {
  api_.set_status("shop", "web", {.replicas = 3, .ready_replicas = 2, .available_replicas = 2});
  const auto web = json::parse(request("GET", "/apis/apps/v1/namespaces/shop/deployments/web").body);
  EXPECT_EQ(web["status"]["replicas"], 3);
  EXPECT_EQ(web["status"]["readyReplicas"], 2);
  EXPECT_EQ(web["status"]["availableReplicas"], 2);
  EXPECT_EQ(web["status"]["unavailableReplicas"], 1);
}

TEST_F(KubeApiTest, ListsCreatedAndEmittedEvents) {
  const json event = {{"kind", "Event"},
                      {"apiVersion", "v1"},
                      {"metadata", {{"generateName", "web."}}},
                      {"involvedObject", {{"kind", "Deployment"}, {"name", "web"}}},
                      {"reason", "SuccessfulRescale"}};
  ASSERT_EQ(request("POST", "/api/v1/namespaces/shop/events", event.dump(), "application/json").status, 201);
  api_.emit_event("other", "api", "ScalingReplicaSet", "Scaled up to 2", "deployment-controller");
  EXPECT_EQ(api_.events().size(), 1u);  // only what clients posted
  EXPECT_EQ(json::parse(request("GET", "/api/v1/namespaces/shop/events").body)["items"].size(), 1u);
  const auto all = json::parse(request("GET", "/api/v1/events").body);
  ASSERT_EQ(all["items"].size(), 2u);
  EXPECT_EQ(all["items"][1]["reason"], "ScalingReplicaSet");
}

TEST_F(KubeApiTest, ListsThePodsTheClusterReportsAndOnlyThose) {
  const PodObject pod{.namespace_ = "shop",
                      .name = "web-abc-xyz",
                      .deployment = "web",
                      .phase = "Running",
                      .ready = true,
                      .created = {}};
  const auto before = api_.revision();
  api_.set_pods("shop", "web", {pod});
  EXPECT_GT(api_.revision(), before);
  const auto unchanged = api_.revision();
  api_.set_pods("shop", "web", {pod});
  EXPECT_EQ(api_.revision(), unchanged) << "reporting the same pods again is not a write";
  const auto listed =
      json::parse(request("GET", "/api/v1/namespaces/shop/pods?labelSelector=app%3Dweb").body);
  ASSERT_EQ(listed["items"].size(), 1u);
  EXPECT_EQ(listed["items"][0]["status"]["containerStatuses"][0]["ready"], true);
  EXPECT_EQ(json::parse(request("GET", "/api/v1/namespaces/shop/pods/web-abc-xyz").body)["metadata"]["name"],
            "web-abc-xyz");
  EXPECT_EQ(request("GET", "/api/v1/namespaces/shop/pods/other").status, 404);
  EXPECT_EQ(request("DELETE", "/api/v1/namespaces/shop/pods/web-abc-xyz").status, 405);
  api_.set_pods("shop", "web", {});
  EXPECT_TRUE(json::parse(request("GET", "/api/v1/pods").body)["items"].empty());
}

TEST_F(KubeApiTest, WakesAWaiterOnEveryWrite) {
  const auto before = api_.revision();
  std::thread writer([&] { api_.set_replicas("shop", "web", 3); });
  EXPECT_GT(api_.wait_for_write(before, std::chrono::seconds(10)), before);
  writer.join();
}

}  // namespace
}  // namespace maestro::local
