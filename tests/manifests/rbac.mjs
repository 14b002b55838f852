// The RBAC in deploy/base/rbac.yaml against the Kubernetes API calls the code makes: each service account
// (maestro-NAME, for the service in src/services/NAME with - for _) is granted exactly the (API group,
// resource, verb) triples its service's calls need, nothing missing and nothing more.
//
// The calls are read from the sources, so that a new call needs its rule and a removed one loses it:
//   - a client method is a function defined at the top level of a src/kube/*.cpp or src/services/*/*.cpp
//     file (not a test) whose body calls http_.VERB(…) or http().VERB(…) (VERB get/post/patch/put/del) or
//     send({.method = "VERB", …}); its paths are the "/api/…" and "/apis/…" string literals in its body, and
//     those of the path helpers it calls (functions of those files that return such a literal), with a
//     "/subresource" literal added to a helper's call (`helper(…) + "/scale"`; `helper(…) + "/" + name` names
//     an object);
//   - a method defined in src/services/NAME is called by that service;
//   - verbs: GET of a named object is get, of a collection list (watch if the body has a "watch=" literal),
//     POST create, PATCH patch, PUT update, DEL delete; a method's verbs apply to all of its paths, so one
//     method makes one kind of call;
//   - a service calls a src/kube method when a non-test .cpp file of its folder has `.METHOD(`; a function of
//     src/kube taking a `const ResourceType&` (kube/custom_resources) calls what its path helpers name for the
//     type constants (kube::kFOO in src/kube/*.hpp, or a for loop's variable over them) a service passes it
//     (its verbs as above, from http().VERB( or .method = "VERB", watch if the body has a "watch=" literal).
//   node tests/manifests/rbac.mjs      exit 0 if the grants match, 1 with the differences
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import YAML from "yaml";

const here = dirname(fileURLToPath(import.meta.url));
const sourceRoot = resolve(here, "../..");

const sources = (dir) =>
  readdirSync(dir)
    .filter((name) => name.endsWith(".cpp") && !name.endsWith("_test.cpp"))
    .map((name) => readFileSync(join(dir, name), "utf8"));

// Top-level function definitions: a line starting a signature with "NAME(" whose body ends at the first "}"
// in column 0.
function functions(text) {
  const found = [];
  const definition = /^[A-Za-z][^\n;]*?\b([A-Za-z_]\w*)(?:::(\w+))?\(([^;{]*?)\)[^;{]*\{\n([\s\S]*?)^\}/gm;
  for (const match of text.matchAll(definition))
    found.push({ name: match[2] ?? match[1], params: match[3], body: match[4] });
  return found;
}

const pathLiteral = /"(\/apis?\/[^"]*)"/g;

// "/apis/apps/v1/namespaces/{}/deployments/{}/scale" → { group: "apps", resource: "deployments/scale", named }
function resourceOf(path) {
  const parts = path.split("?")[0].split("/").filter(Boolean);
  const [root, ...rest] = parts;
  const group = root === "api" ? "" : rest.shift();
  rest.shift();  // the version
  if (rest[0] === "namespaces" && rest.length > 2) rest.splice(0, 2);
  const [resource, name, subresource] = rest;
  return { group, resource: subresource ? `${resource}/${subresource}` : resource, named: name !== undefined };
}

const verbOf = { get: "get", post: "create", patch: "patch", put: "update", del: "delete" };

// Client method name → the "group/resource:verb" triples it needs.
export function clientCalls(kubeSources) {
  const all = kubeSources.flatMap(functions);
  return callsOf(all, all);
}

// The triples of the functions in `callers` that make HTTP calls, with the path helpers among `all`.
function callsOf(callers, all) {
  const helpers = new Map(
    all
      .filter((fn) => /^\s*return fmt::format\(\s*"\/apis?\//.test(fn.body))
      .map((fn) => [fn.name, [...fn.body.matchAll(pathLiteral)].map((m) => m[1])]),
  );
  const calls = new Map();
  for (const fn of callers) {
    const methods = [
      ...[...fn.body.matchAll(/(?:http_|http\(\))\.(get|post|patch|put|del)\w*\(/g)].map((m) => m[1]),
      ...[...fn.body.matchAll(/\.method = "([A-Z]+)"/g)].map((m) => m[1].toLowerCase().replace("delete", "del")),
    ];
    if (!methods.length) continue;
    const paths = [...fn.body.matchAll(pathLiteral)].map((m) => m[1]);
    for (const call of fn.body.matchAll(/\b(\w+)\([^()]*\)(?:\s*\+\s*"(\/[^"]*)")?/g))
      for (const path of helpers.get(call[1]) ?? []) paths.push(path + (call[2] === "/" ? "/{}" : (call[2] ?? "")));
    const watches = /"[^"]*watch=/.test(fn.body);
    const triples = new Set();
    for (const path of paths) {
      const { group, resource, named } = resourceOf(path);
      for (const method of methods) {
        const verb = method === "get" ? (named ? "get" : watches ? "watch" : "list") : verbOf[method];
        triples.add(`${group}/${resource}:${verb}`);
      }
    }
    calls.set(fn.name, new Set([...(calls.get(fn.name) ?? []), ...triples]));
  }
  return calls;
}

// Calls on a resource type given as an argument (kube/custom_resources: list_objects(kube, kube::kFOO, …)):
// function name → [{ verb, subresource }], from functions taking a `const ResourceType&` whose paths come
// from helpers that also take one (named when the helper takes a name).
export function typedCalls(kubeSources) {
  const all = kubeSources.flatMap(functions);
  const typedHelpers = new Map(
    all.filter((fn) => /ResourceType&/.test(fn.params) && /_path$/.test(fn.name) || (/ResourceType&/.test(fn.params) && /^\s*return/.test(fn.body) && /"\/apis?\//.test(fn.body)))
      .map((fn) => [fn.name, /\bname\b/.test(fn.params)]),
  );
  const calls = new Map();
  for (const fn of all.filter((fn) => /ResourceType&/.test(fn.params) && !typedHelpers.has(fn.name))) {
    const methods = [
      ...[...fn.body.matchAll(/(?:http_|http\(\))\.(get|post|patch|put|del)\w*\(/g)].map((m) => m[1]),
      ...[...fn.body.matchAll(/\.method = "([A-Z]+)"/g)].map((m) => m[1].toLowerCase().replace("delete", "del")),
    ];
    const watches = /"[^"]*watch=/.test(fn.body);
    const uses = [];
    for (const call of fn.body.matchAll(/\b(\w+_path)\([^()]*\)(?:\s*\+\s*"\/(\w+)")?/g))
      if (typedHelpers.has(call[1])) uses.push({ named: typedHelpers.get(call[1]), subresource: call[2] });
    const verbs = [];
    for (const use of uses)
      for (const method of methods)
        verbs.push({ verb: method === "get" ? (use.named ? "get" : watches ? "watch" : "list") : verbOf[method], subresource: use.subresource });
    if (verbs.length) calls.set(fn.name, verbs);
  }
  return calls;
}

// Resource type constants: kNAME → "group/resource" (`inline const ResourceType kNAME{"group", "version", "resource"`).
export function resourceTypes(headers) {
  const types = new Map();
  for (const text of headers)
    for (const m of text.matchAll(/ResourceType (k\w+)\{"([^"]*)", "[^"]*", "([^"]*)"/g)) types.set(m[1], `${m[2]}/${m[3]}`);
  return types;
}

// Service account name → the triples its service's calls need.
export function requiredGrants(calls, servicesDir, typed = new Map(), types = new Map()) {
  const required = new Map();
  for (const service of readdirSync(servicesDir, { withFileTypes: true }).filter((entry) => entry.isDirectory())) {
    const serviceSources = sources(join(servicesDir, service.name));
    const text = serviceSources.join("\n");
    const triples = new Set();
    for (const [method, needs] of calls)
      if (new RegExp(`\\.${method}\\(`).test(text)) needs.forEach((triple) => triples.add(triple));
    // The type is a constant (kube::kFOO) or a loop's variable over constants (`for (… type : {&kube::kA, …})`).
    const loops = new Map();
    for (const loop of text.matchAll(/for \(const auto\*? (\w+) : \{([^}]*)\}\)/g))
      loops.set(loop[1], [...loop[2].matchAll(/\b(k\w+)/g)].map((m) => m[1]));
    for (const [fn, verbs] of typed)
      for (const call of text.matchAll(new RegExp(`\\b${fn}\\([^,()]+,\\s*\\*?(?:kube::)?(\\w+)`, "g")))
        for (const constant of loops.get(call[1]) ?? [call[1]])
          for (const { verb, subresource } of verbs) {
            const type = types.get(constant);
            if (type) triples.add(`${type}${subresource ? `/${subresource}` : ""}:${verb}`);
          }
    // The service's own calls to the API (through the client's HTTP connection).
    const own = serviceSources.flatMap(functions);
    for (const needs of callsOf(own, own).values()) needs.forEach((triple) => triples.add(triple));
    required.set(`maestro-${service.name.replaceAll("_", "-")}`, triples);
  }
  return required;
}

// Service account name → the triples rbac.yaml's (Cluster)Roles grant it through their bindings.
export function grantedByRbac(rbacText) {
  const objects = YAML.parseAllDocuments(rbacText).map((document) => document.toJS()).filter(Boolean);
  const roles = new Map(
    objects.filter((o) => o.kind === "ClusterRole" || o.kind === "Role").map((o) => [`${o.kind}/${o.metadata.name}`, o.rules ?? []]),
  );
  const granted = new Map(objects.filter((o) => o.kind === "ServiceAccount").map((o) => [o.metadata.name, new Set()]));
  for (const binding of objects.filter((o) => o.kind === "ClusterRoleBinding" || o.kind === "RoleBinding")) {
    const rules = roles.get(`${binding.roleRef.kind}/${binding.roleRef.name}`) ?? [];
    for (const subject of (binding.subjects ?? []).filter((s) => s.kind === "ServiceAccount")) {
      const triples = granted.get(subject.name) ?? new Set();
      for (const rule of rules)
        for (const group of rule.apiGroups ?? [])
          for (const resource of rule.resources ?? [])
            for (const verb of rule.verbs ?? []) triples.add(`${group}/${resource}:${verb}`);
      granted.set(subject.name, triples);
    }
  }
  return granted;
}

// The differences, one line each; none when every service account has exactly what its service needs.
export function rbacProblems(required, granted) {
  const problems = [];
  for (const [account, triples] of granted) {
    const needs = required.get(account);
    if (!needs) {
      if (triples.size) problems.push(`${account}: granted ${[...triples].join(", ")} but no service of that name`);
      continue;
    }
    for (const triple of triples) if (!needs.has(triple)) problems.push(`${account}: granted ${triple}, which its code never calls`);
    for (const triple of needs) if (!triples.has(triple)) problems.push(`${account}: its code calls ${triple}, which rbac.yaml does not grant`);
  }
  for (const [account, needs] of required)
    if (needs.size && !granted.has(account)) problems.push(`${account}: calls the Kubernetes API but has no service account`);
  return problems;
}

export function checkRbac(root = sourceRoot, rbacText = readFileSync(join(root, "deploy/base/rbac.yaml"), "utf8")) {
  const kube = sources(join(root, "src/kube"));
  const headers = readdirSync(join(root, "src/kube"))
    .filter((name) => name.endsWith(".hpp"))
    .map((name) => readFileSync(join(root, "src/kube", name), "utf8"));
  const calls = clientCalls(kube);
  const required = requiredGrants(calls, join(root, "src/services"), typedCalls(kube), resourceTypes(headers));
  return { calls, required, problems: rbacProblems(required, grantedByRbac(rbacText)) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (!existsSync(join(here, "node_modules"))) {
    console.log(`SKIPPED: ${join(here, "node_modules")} is absent; run scripts/setup (npm ci in tests/manifests)`);
    process.exit(77);
  }
  const { calls, required, problems } = checkRbac();
  for (const [method, triples] of calls) console.log(`client ${method}: ${[...triples].join(", ")}`);
  for (const [account, triples] of required) console.log(`${account} needs: ${[...triples].join(", ") || "nothing"}`);
  for (const problem of problems) console.error(problem);
  console.log(`rbac: ${problems.length ? `${problems.length} problems` : "deploy/base/rbac.yaml grants exactly the calls the code makes"}`);
  process.exit(problems.length ? 1 : 0);
}
