// ctest manifests_validate: deploy/ validates (validate.mjs), and copies of it with one thing broken do not,
// each for the reason broken, so that the validation is known to be able to fail.
// Exit 77 (ctest: skipped) only when the npm packages are not installed: scripts/setup installs them.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
if (!existsSync(join(here, "node_modules"))) {
  console.log(`SKIPPED: ${join(here, "node_modules")} is absent; run scripts/setup (npm ci in tests/manifests)`);
  process.exit(77);
}
const { validateDeploy } = await import("./validate.mjs");
const deployDir = resolve(here, "../../deploy");

let failed = 0;
const expect = (ok, message) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${message}`);
  if (!ok) failed += 1;
};

// What the (slow) tsc run refuses is checked in the same run as deploy/: a k6 script with an option k6 does
// not have, and objects with a field their kind does not have, at any depth.
const scratch = mkdtempSync(join(tmpdir(), "maestro-k6-"));
const brokenScript = join(scratch, "broken-ramp-hold.js");
writeFileSync(
  brokenScript,
  readFileSync(join(deployDir, "load/ramp-hold.js"), "utf8").replace("discardResponseBodies: true", "discardResponseBody: true"),
);
const broken = "broken copy";
const deployment = {
  apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "misspelt-spec" },
  spec: { replica: 2, selector: { matchLabels: { app: "x" } }, template: { spec: { containers: [{ name: "x", image: "x" }] } } },
};
const container = structuredClone(deployment);
container.metadata.name = "misspelt-container";
container.spec.replicas = container.spec.replica;
delete container.spec.replica;
container.spec.template.spec.containers[0].imagePullPolice = "Always";
const monitor = {
  apiVersion: "monitoring.coreos.com/v1", kind: "ServiceMonitor", metadata: { name: "misspelt-endpoint" },
  spec: { selector: {}, endpoints: [{ port: "http", intervall: "15s" }] },
};
const good = await validateDeploy(deployDir, {
  extraScripts: [brokenScript],
  extraObjects: [deployment, container, monitor].map((object) => ({ object, origin: broken })),
});
rmSync(scratch, { recursive: true, force: true });
const isBroken = (problem) => problem.includes("broken-ramp-hold.js") || problem.startsWith(broken);
const problems = good.problems.filter((problem) => !isBroken(problem));
for (const problem of problems) console.error(problem);
expect(problems.length === 0 && good.objects > 0, `deploy/ validates: ${good.objects} objects, ${problems.length} problems`);
// Every overlay renders, with what makes it the overlay it is; the base has the PodDisruptionBudget and the
// NetworkPolicies; the example runs the latency sidecar beside each autoscaled app.
const kinds = (dir) => good.renderedKinds.get(dir) ?? [];
for (const dir of ["base", "overlays/dev", "overlays/production", "example"])
  expect(kinds(dir).includes("Deployment"), `${dir} renders (${kinds(dir).length} objects)`);
expect(kinds("base").includes("PodDisruptionBudget") && kinds("base").filter((kind) => kind === "NetworkPolicy").length >= 3,
  "the base has the model server's PodDisruptionBudget and the NetworkPolicies");
expect(kinds("overlays/production").includes("ServiceMonitor"), "production includes the monitoring kit");
expect(kinds("overlays/dev").includes("Namespace") && kinds("overlays/dev").filter((kind) => kind === "Deployment").length === 5,
  "dev includes the example apps beside the three services");
const refused = (what, pattern) => expect(good.problems.some((problem) => pattern.test(problem)), `refused: ${what}`);
refused("a k6 option k6 does not have", /broken-ramp-hold\.js.*discardResponseBody\b/);
refused("a Deployment's misspelt spec field", /Deployment misspelt-spec: .*'"replica"' does not exist/);
refused("a container's misspelt field", /Deployment misspelt-container: .*'"imagePullPolice"' does not exist/);
refused("a ServiceMonitor endpoint's misspelt field", /ServiceMonitor misspelt-endpoint: .*'"intervall"' does not exist/);

// Each case breaks one file of a copy of deploy/ (`replace` must change it) and names what must be refused.
const cases = [
  { what: "a Deployment's replicas as a string", file: "base/model-server.yaml", from: "replicas: 2", to: 'replicas: "two"',
    refused: /Deployment maestro-model-server: .*replicas/ },
  { what: "a container without its required name", file: "base/controller.yaml", from: "- name: controller\n", to: "- \n",
    refused: /Deployment maestro-controller: .*name/ },
  { what: "a ServiceMonitor endpoint's interval as a number", file: "monitoring/service-monitors.yaml",
    from: "interval: 15s", to: "interval: 15", refused: /ServiceMonitor maestro-model-server: .*interval/ },
  { what: "a PrometheusRule rule without a name for its group", file: "monitoring/prometheus-rule.yaml",
    from: "- name: maestro.alerts", to: "- nam: maestro.alerts", refused: /PrometheusRule maestro: .*name/ },
  { what: "a PodChaos action Chaos Mesh does not have", file: "chaos/pod-kill.yaml", from: "action: pod-kill",
    to: "action: pod-explode", refused: /PodChaos maestro-web-pod-kill: .*action/ },
  { what: "an unknown field in a StressChaos", file: "chaos/cpu-stress.yaml", from: "duration: 120s",
    to: "duration: 120s\n  durationn: 60s", refused: /StressChaos maestro-web-cpu-stress: .*additional properties/ },
  { what: "a CPU load over 100% in a scheduled StressChaos", file: "chaos/schedules.yaml", from: "load: 50",
    to: "load: 150", refused: /Schedule maestro-web-cpu-stress-every-30m: .*load/ },
  { what: "a Schedule whose type is not the experiment it holds", file: "chaos/schedules.yaml",
    from: "type: PodChaos", to: "type: StressChaos", refused: /Schedule maestro-web-pod-kill-every-15m/ },
  { what: "an overlay's patch with replicas as a string", file: "overlays/production/model-server.patch.yaml",
    from: "replicas: 3", to: 'replicas: "three"', refused: /kustomize .*production: .*Deployment maestro-model-server: .*replicas/ },
  { what: "an overlay's JSON patch at a path the base does not have", file: "overlays/dev/kustomization.yaml",
    from: "/containers/0/args/-", to: "/containers/7/args/-", refused: /kubectl kustomize .*dev: / },
  { what: "a NetworkPolicy's policy type Kubernetes does not have", file: "base/network-policies.yaml",
    from: 'policyTypes: ["Ingress"]\n  ingress:\n    - from:\n        - podSelector:\n            matchLabels:\n              app.kubernetes.io/name: maestro-controller',
    to: 'policyTypes: ["Inbound"]\n  ingress:\n    - from:\n        - podSelector:\n            matchLabels:\n              app.kubernetes.io/name: maestro-controller',
    refused: /NetworkPolicy maestro-suggestion-server: .*policyTypes/ },
  { what: "a PodDisruptionBudget's maxUnavailable as a list", file: "base/pod-disruption-budget.yaml",
    from: "maxUnavailable: 1", to: "maxUnavailable: [1]", refused: /PodDisruptionBudget maestro-model-server: .*maxUnavailable/ },
  { what: "a resource a kustomization lists but does not have", file: "load/kustomization.yaml",
    from: "- jobs.yaml", to: "- jobs.yaml\n  - missing.yaml", refused: /kubectl kustomize .*load: .*missing\.yaml/ },
  { what: "a MaestroAutoscaler whose minReplicas is over its maxReplicas", file: "crd/example.yaml",
    from: "minReplicas: 2", to: "minReplicas: 12", refused: /MaestroAutoscaler web: .spec: minReplicas must not be greater than maxReplicas/ },
  { what: "a MaestroAutoscaler with a policy type there is not", file: "crd/example.yaml", from: "type: Learned",
    to: "type: Magic", refused: /MaestroAutoscaler web: .*\/spec\/policy\/type must be equal to one of the allowed values/ },
  { what: "a Learned policy without its name", file: "crd/example.yaml", from: "    learned:\n      name: maestro-ppo\n",
    to: "", refused: /MaestroAutoscaler web: .spec.policy: a Learned policy needs learned.name/ },
  { what: "a soft latency objective over the hard one", file: "crd/example.yaml", from: "latencySoftMilliseconds: 250",
    to: "latencySoftMilliseconds: 900", refused: /MaestroAutoscaler web: .spec.slo: latencySoftMilliseconds must be less/ },
  { what: "a fallback replica count over maxReplicas", file: "crd/example.yaml", from: "    replicas: 4\n",
    to: "    replicas: 40\n", refused: /MaestroAutoscaler web: .spec: fallback.replicas must be within/ },
  { what: "a misspelt MaestroAutoscaler field", file: "crd/example.yaml", from: "dryRun: true",
    to: "dryrun: true", refused: /MaestroAutoscaler web-hpa-shadow: .*additional properties/ },
  { what: "a query override of a metric there is not", file: "crd/example.yaml", from: "      rps: sum(",
    to: "      requests: sum(", refused: /MaestroAutoscaler cache: .*additional properties/ },
  { what: "an empty query override", file: "crd/example.yaml",
    from: 'rps: sum(rate(cache_requests_total{namespace="$namespace",pod=~"$pods"}[$window]))', to: 'rps: ""',
    refused: /MaestroAutoscaler cache: .*\/spec\/metrics\/queries\/rps must NOT have fewer than 1 characters/ },
  { what: "a dashboard without the deployment variable", file: "monitoring/maestro-dashboard.json",
    from: '"name": "deployment"', to: '"name": "deploy"', refused: /no template variable deployment/ },
];
for (const broken of cases) {
  const copy = mkdtempSync(join(tmpdir(), "maestro-deploy-"));
  try {
    cpSync(deployDir, copy, { recursive: true });
    const path = join(copy, broken.file);
    const text = readFileSync(path, "utf8");
    if (!text.includes(broken.from)) {
      expect(false, `${broken.what}: ${broken.file} has no "${broken.from}" to break`);
      continue;
    }
    writeFileSync(path, text.replace(broken.from, broken.to));
    const { problems } = await validateDeploy(copy, { typeCheck: false });
    const named = problems.some((problem) => broken.refused.test(problem));
    expect(named, `refused: ${broken.what}${named ? "" : ` (problems: ${problems.join(" | ") || "none"})`}`);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}
process.exit(failed ? 1 : 0);
