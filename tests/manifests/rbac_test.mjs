// ctest manifests_rbac: deploy/base/rbac.yaml grants each service account exactly the Kubernetes API calls its
// service's code makes (rbac.mjs), and the check fails, naming the difference, for a grant removed, a grant
// added, and a client call added without its grant.
// Exit 77 (ctest: skipped) only when the npm packages are not installed: scripts/setup installs them.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
if (!existsSync(join(here, "node_modules"))) {
  console.log(`SKIPPED: ${join(here, "node_modules")} is absent; run scripts/setup (npm ci in tests/manifests)`);
  process.exit(77);
}
const { checkRbac, clientCalls, grantedByRbac, rbacProblems, requiredGrants } = await import("./rbac.mjs");
const root = resolve(here, "../..");
const rbac = readFileSync(join(root, "deploy/base/rbac.yaml"), "utf8");

let failed = 0;
const expect = (ok, message) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${message}`);
  if (!ok) failed += 1;
};

const { calls, required, problems } = checkRbac(root, rbac);
for (const problem of problems) console.error(problem);
expect(problems.length === 0, `rbac.yaml grants exactly the calls the code makes (${problems.length} problems)`);
// What the extraction must find in today's client, so that a change to its rules cannot pass by finding nothing.
const controller = required.get("maestro-controller") ?? new Set();
for (const triple of ["apps/deployments:list", "apps/deployments/scale:get", "apps/deployments/scale:patch", "/events:create",
  "/pods:list", "coordination.k8s.io/leases:get", "coordination.k8s.io/leases:create", "coordination.k8s.io/leases:update",
  "autoscaling.maestro.io/maestroautoscalers:list", "autoscaling.maestro.io/maestroautoscalers/status:patch",
  "autoscaling/horizontalpodautoscalers:list", "keda.sh/scaledobjects:list"])
  expect(controller.has(triple), `the controller's code needs ${triple}`);
expect(required.get("maestro-suggestion-server")?.has("apps/deployments:get"), "the suggestion server's code needs apps/deployments:get");
expect(required.get("maestro-model-server")?.size === 0, "the model server's code calls no Kubernetes API");

const problemsWith = (rbacText, extraClient = "") => {
  const kube = join(root, "src/kube");
  const kubeSources = readdirSync(kube)
    .filter((name) => name.endsWith(".cpp") && !name.endsWith("_test.cpp"))
    .map((name) => readFileSync(join(kube, name), "utf8"));
  const extended = clientCalls([...kubeSources, extraClient]);
  return rbacProblems(requiredGrants(extended, join(root, "src/services")), grantedByRbac(rbacText));
};
const refused = (what, found, pattern) =>
  expect(found.some((problem) => pattern.test(problem)), `refused: ${what}${found.length ? "" : " (no problems)"}`);

const withoutPatch = rbac.replace('verbs: ["get", "patch"]', 'verbs: ["get"]');
expect(withoutPatch !== rbac, "rbac.yaml has the scale rule to break");
refused("a call the code makes without its grant", problemsWith(withoutPatch),
  /maestro-controller: its code calls apps\/deployments\/scale:patch, which rbac.yaml does not grant/);
const withDelete = rbac.replace('verbs: ["get", "patch"]', 'verbs: ["get", "patch", "delete"]');
refused("a grant the code never uses", problemsWith(withDelete),
  /maestro-controller: granted apps\/deployments\/scale:delete, which its code never calls/);
// A client method the controller calls (list_deployments_annotated's name) that also lists secrets.
const secretLister = `KubeResult<void> KubeClient::list_deployments_annotated(const std::string& ns) {
  auto response = http_.get(fmt::format("/api/v1/namespaces/{}/secrets", ns));
  return {};
}
`;
refused("a new client call without its grant", problemsWith(rbac, secretLister),
  /maestro-controller: its code calls \/secrets:list, which rbac.yaml does not grant/);
expect(calls.size >= 5, `client methods found: ${[...calls.keys()].join(", ")}`);
process.exit(failed ? 1 : 0);
