// Validates every object in deploy/ against its schema, offline:
//   - each kustomization (deploy/base/, the overlays/ dev and production, example/, monitoring/, load/, chaos/)
//     renders with `kubectl kustomize`, and every YAML file beside them that is not a patch parses on its own;
//   - Kubernetes kinds with the npm package kubernetes-models, the Prometheus Operator's with
//     @kubernetes-models/prometheus-operator: their validate() (types, required fields, enums), and their
//     TypeScript interfaces for fields they do not have (the models' schemas allow unknown fields; kubectl's
//     strict validation does not: each object is type-checked as a literal of its interface); Chaos Mesh's PodChaos and StressChaos against their CRDs'
//     openAPIV3Schema in shared/schemas/ (ajv; unknown fields refused, as kubectl's strict validation does);
//     a Chaos Mesh Schedule's own fields against the schema below (its CRD is not in shared/schemas/), the
//     experiment it schedules against that experiment's CRD;
//   - the project's own custom resources (MaestroAutoscaler) against the CRD in the deploy/ being validated:
//     its openAPIV3Schema (ajv, unknown fields refused) and its x-kubernetes-validations CEL rules
//     (@marcbachmann/cel-js), as the API server checks them on every write;
//   - the Grafana dashboard's shape (its queries run against a real Prometheus in monitoring_kit_test);
//   - the k6 scripts type-checked against @types/k6 (tsc --noEmit --allowJs --checkJs --strict), in the same
//     tsc run as the objects.
//   node tests/manifests/validate.mjs [DEPLOY_DIR]      exit 0 if everything is valid, 1 with the problems
import { execFile as execFileCallback, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { evaluate as evaluateCel } from "@marcbachmann/cel-js";
import Ajv from "ajv";
import YAML from "yaml";

const execFile = promisify(execFileCallback);
const here = dirname(fileURLToPath(import.meta.url));
const sourceRoot = resolve(here, "../..");
const schemasDir = process.env.MAESTRO_SCHEMAS_DIR || resolve(sourceRoot, "../shared/schemas");

// The files kustomizations name as patches: partial objects, checked as part of the overlay they patch.
function patchFiles(kustomizations) {
  return new Set(
    kustomizations.flatMap((kustomization) => {
      const spec = YAML.parse(readFileSync(kustomization, "utf8")) ?? {};
      const paths = [...(spec.patches ?? []).map((patch) => patch.path), ...(spec.patchesStrategicMerge ?? [])];
      return paths.filter((path) => typeof path === "string").map((path) => resolve(dirname(kustomization), path));
    }),
  );
}

// Where a YAML file under deploy/ holds something other than whole Kubernetes objects.
const notObjects = (path, patches) =>
  path.endsWith("kustomization.yaml") || path.split("/").includes("tests") || patches.has(resolve(path));

function yamlFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

function parseObjects(text, origin) {
  return YAML.parseAllDocuments(text).flatMap((document, index) => {
    if (document.errors.length) throw new Error(`${origin} document ${index + 1}: ${document.errors[0].message}`);
    const object = document.toJS();
    return object == null ? [] : [{ object, origin }];
  });
}

// --- Chaos Mesh: the CRDs' openAPIV3Schema, with unknown fields refused ---------------------------------

// Kubernetes prunes (and kubectl's strict validation refuses) fields a structural schema does not declare,
// unless it says x-kubernetes-preserve-unknown-fields; JSON Schema allows them unless told otherwise.
function refuseUnknownFields(schema) {
  if (Array.isArray(schema)) return schema.map(refuseUnknownFields);
  if (schema === null || typeof schema !== "object") return schema;
  const strict = Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, refuseUnknownFields(value)]));
  if (strict.properties && strict.additionalProperties === undefined && !strict["x-kubernetes-preserve-unknown-fields"])
    strict.additionalProperties = false;
  return strict;
}

function crdSchemas(ajv) {
  const byKind = new Map();
  const dir = join(schemasDir, "chaos-mesh");
  for (const file of readdirSync(dir).filter((name) => name.endsWith(".yaml"))) {
    const crd = YAML.parse(readFileSync(join(dir, file), "utf8"));
    for (const version of crd.spec.versions) {
      const schema = refuseUnknownFields(version.schema.openAPIV3Schema);
      // metadata is the API server's ObjectMeta, which the CRD leaves open: checked by kubernetesName below.
      schema.properties.metadata = { type: "object" };
      byKind.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, {
        validate: ajv.compile(schema),
        spec: schema.properties.spec,
      });
    }
  }
  return byKind;
}

function scheduleSchema(crds) {
  const experiment = (kind) => crds.get(`chaos-mesh.org/v1alpha1/${kind}`).spec;
  return {
    type: "object",
    required: ["apiVersion", "kind", "metadata", "spec"],
    properties: {
      apiVersion: { const: "chaos-mesh.org/v1alpha1" },
      kind: { const: "Schedule" },
      metadata: { type: "object" },
      spec: {
        type: "object",
        required: ["schedule", "type"],
        additionalProperties: false,
        properties: {
          schedule: { type: "string", pattern: "^(@every .+|@\\w+|\\S+( \\S+){4,5})$" },
          type: { enum: ["PodChaos", "StressChaos"] },
          historyLimit: { type: "integer", minimum: 1 },
          concurrencyPolicy: { enum: ["Forbid", "Allow"] },
          startingDeadlineSeconds: { type: "integer", minimum: 0 },
          podChaos: experiment("PodChaos"),
          stressChaos: experiment("StressChaos"),
        },
        // the experiment named by `type` is the one given
        oneOf: [
          { properties: { type: { const: "PodChaos" } }, required: ["podChaos"], not: { required: ["stressChaos"] } },
          { properties: { type: { const: "StressChaos" } }, required: ["stressChaos"], not: { required: ["podChaos"] } },
        ],
      },
    },
  };
}

// --- the project's own CRDs: schema and CEL rules -----------------------------------------------------

// The CEL rules of `schema` that `value` breaks, walking the object and the schema together; `path` names
// where, as the API server's field paths do.
function celProblems(schema, value, path) {
  if (schema == null || value === undefined) return [];
  const problems = [];
  for (const { rule, message } of schema["x-kubernetes-validations"] ?? []) {
    let holds;
    try {
      holds = evaluateCel(rule, { self: value });
    } catch (error) {
      holds = `${error.message}`;
    }
    if (holds !== true) problems.push(`${path}: ${message ?? `failed rule: ${rule}`}${holds === false ? "" : ` (${holds})`}`);
  }
  if (schema.properties && value !== null && typeof value === "object" && !Array.isArray(value))
    for (const [key, property] of Object.entries(schema.properties))
      problems.push(...celProblems(property, value[key], `${path}.${key}`));
  if (schema.items && Array.isArray(value))
    value.forEach((item, index) => problems.push(...celProblems(schema.items, item, `${path}[${index}]`)));
  return problems;
}

function projectCrds(deployDir, ajv) {
  const byKind = new Map();
  const dir = join(deployDir, "crd");
  if (!existsSync(dir)) return byKind;
  for (const file of readdirSync(dir).filter((name) => name.endsWith(".yaml") && name !== "kustomization.yaml")) {
    for (const { object: crd } of parseObjects(readFileSync(join(dir, file), "utf8"), file)) {
      if (crd.kind !== "CustomResourceDefinition") continue;
      for (const version of crd.spec.versions) {
        const schema = refuseUnknownFields(version.schema.openAPIV3Schema);
        schema.properties.metadata = { type: "object" };
        const validate = ajv.compile(schema);
        byKind.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, (object) => [
          ...(validate(object) ? [] : [ajvErrors(validate.errors)]),
          ...celProblems(version.schema.openAPIV3Schema, object, ""),
        ]);
      }
    }
  }
  return byKind;
}

const kubernetesName = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

// --- Kubernetes' and the Prometheus Operator's kinds: their npm models ----------------------------------

function modelModule(apiVersion) {
  return apiVersion.startsWith("monitoring.coreos.com/")
    ? `@kubernetes-models/prometheus-operator/${apiVersion}`
    : `kubernetes-models/${apiVersion}`;
}

async function modelClass(apiVersion, kind) {
  try {
    return (await import(modelModule(apiVersion)))[kind];
  } catch {
    return undefined;
  }
}

function ajvErrors(errors) {
  return errors.map((error) => `${error.instancePath || "/"} ${error.message}`).join("; ");
}

async function validateObject({ object, origin }, crds, validateSchedule, ownCrds) {
  const { apiVersion, kind } = object ?? {};
  const name = `${origin}: ${kind ?? "?"} ${object?.metadata?.name ?? "?"}`;
  if (typeof apiVersion !== "string" || typeof kind !== "string") return [`${name}: no apiVersion or kind`];
  if (apiVersion.startsWith("chaos-mesh.org/")) {
    if (!kubernetesName.test(object.metadata?.name ?? "")) return [`${name}: metadata.name is not a DNS-1123 label`];
    const validate = kind === "Schedule" ? validateSchedule : crds.get(`${apiVersion}/${kind}`)?.validate;
    if (!validate) return [`${name}: no schema for ${apiVersion} ${kind} in ${schemasDir}`];
    return validate(object) ? [] : [`${name}: ${ajvErrors(validate.errors)}`];
  }
  const ownGroup = ownCrds.get(`${apiVersion}/${kind}`);
  if (ownGroup) {
    if (!kubernetesName.test(object.metadata?.name ?? "")) return [`${name}: metadata.name is not a DNS-1123 label`];
    return ownGroup(object).map((problem) => `${name}: ${problem}`);
  }
  if (apiVersion.startsWith("autoscaling.maestro.io/")) return [`${name}: no CRD for ${apiVersion} ${kind} in deploy/crd/`];
  const Model = await modelClass(apiVersion, kind);
  if (!Model) return [`${name}: ${apiVersion} ${kind} is no kind kubernetes-models or the Prometheus Operator's models know`];
  try {
    new Model(object).validate();
    return [];
  } catch (error) {
    return [`${name}: ${error.message}`];
  }
}

// --- the dashboard and the k6 scripts ------------------------------------------------------------------

function dashboardProblems(path) {
  const origin = relative(process.cwd(), path);
  let dashboard;
  try {
    dashboard = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    return [`${origin}: ${error.message}`];
  }
  const problems = [];
  const variables = (dashboard.templating?.list ?? []).map((variable) => variable.name);
  for (const needed of ["datasource", "namespace", "deployment"])
    if (!variables.includes(needed)) problems.push(`${origin}: no template variable ${needed}`);
  if (typeof dashboard.uid !== "string" || typeof dashboard.title !== "string") problems.push(`${origin}: no uid or title`);
  const panels = (dashboard.panels ?? []).filter((panel) => panel.type !== "row");
  if (!panels.length) problems.push(`${origin}: no panels`);
  for (const panel of panels) {
    if (!panel.gridPos || !panel.title) problems.push(`${origin}: panel ${panel.id} has no title or gridPos`);
    if (!panel.targets?.length || panel.targets.some((target) => typeof target.expr !== "string" || !target.expr))
      problems.push(`${origin}: panel "${panel.title}" has a target without a PromQL expr`);
  }
  return problems;
}

// One tsc run: the k6 scripts (the .js files of deploy/load/, and `scripts`) against @types/k6, and each
// object with a model as a literal of the model's interface, one a line of a generated objects.ts, so that an
// error's line names the object.
async function typeProblems(deployDir, objects, scripts) {
  const loadDir = join(deployDir, "load");
  scripts = [...readdirSync(loadDir).filter((name) => name.endsWith(".js")).map((name) => join(loadDir, name)), ...scripts];
  const scratch = mkdtempSync(join(tmpdir(), "maestro-validate-"));
  const typed = [];
  const lines = [];
  for (const entry of objects) {
    const { apiVersion, kind } = entry.object;
    if (apiVersion.startsWith("chaos-mesh.org/") || apiVersion.startsWith("autoscaling.maestro.io/") || !(await modelClass(apiVersion, kind))) continue;
    const declaration = join(here, "node_modules", modelModule(apiVersion), kind);
    lines.push(
      `import type { I${kind} as T${typed.length} } from ${JSON.stringify(declaration)};`,
      `export const object${typed.length}: T${typed.length} = ${JSON.stringify(entry.object)};`,
    );
    typed.push({ entry, line: lines.length });
  }
  const generated = join(scratch, "objects.ts");
  writeFileSync(generated, lines.join("\n") + "\n");
  const tsc = join(here, "node_modules/typescript/bin/tsc");
  const result = spawnSync(
    process.execPath,
    [tsc, "--noEmit", "--allowJs", "--checkJs", "--strict", "--target", "es2020", "--module", "esnext",
     "--moduleResolution", "bundler", "--types", "k6", "--typeRoots", join(here, "node_modules/@types"),
     ...scripts, generated],
    { encoding: "utf8" },
  );
  rmSync(scratch, { recursive: true, force: true });
  if (result.status === 0) return [];
  return (result.stdout + result.stderr).trim().split("\n").map((line) => {
    const at = line.match(/objects\.ts\((\d+),\d+\): error TS\d+: (.*)/);
    if (!at) return `k6 type check: ${line}`;
    const { entry } = typed.find((candidate) => candidate.line === Number(at[1])) ?? { entry: { object: {}, origin: "?" } };
    return `${entry.origin}: ${entry.object.kind} ${entry.object.metadata?.name}: ${at[2]}`;
  });
}

let compiled;  // the Chaos Mesh validators, compiled once
function chaosValidators() {
  if (!compiled) {
    // The CRDs' formats (int64, date-time) are Kubernetes' OpenAPI's, which ajv does not know: types only.
    const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
    const crds = crdSchemas(ajv);
    compiled = { crds, validateSchedule: ajv.compile(scheduleSchema(crds)) };
  }
  return compiled;
}

// `typeCheck: false` leaves the tsc run (k6 scripts, unknown fields) out: the slow part, about 7 s.
// `extraScripts` and `extraObjects` ({object, origin}) are checked along with deploy/'s. `renderedKinds` says
// what each kustomization rendered.
export async function validateDeploy(deployDir, { typeCheck = true, extraScripts = [], extraObjects = [] } = {}) {
  const { crds, validateSchedule } = chaosValidators();
  const ownCrds = projectCrds(deployDir, new Ajv({ allErrors: true, strict: false, validateFormats: false }));
  const problems = [];
  const objects = [];
  const renderedKinds = new Map();  // each kustomization's folder (relative to deployDir) → its objects' kinds

  const files = yamlFiles(deployDir);
  const kustomizations = files.filter((path) => path.endsWith("kustomization.yaml"));
  const renders = kustomizations.map(async (kustomization) => {
    const dir = dirname(kustomization);
    const origin = `kubectl kustomize ${relative(process.cwd(), dir) || "."}`;
    try {
      const { stdout } = await execFile("kubectl", ["kustomize", dir], { encoding: "utf8" });
      const rendered = parseObjects(stdout, origin);
      objects.push(...rendered);
      renderedKinds.set(relative(deployDir, dir) || ".", rendered.map(({ object }) => object.kind));
    } catch (error) {
      problems.push(`${origin}: ${(error.stderr || error.message).trim()}`);
    }
  });
  await Promise.all(renders);
  let patches = new Set();
  try {
    patches = patchFiles(kustomizations);
  } catch (error) {
    problems.push(`a kustomization does not parse: ${error.message}`);
  }
  for (const path of files.filter((path) => !notObjects(path, patches))) {
    try {
      objects.push(...parseObjects(readFileSync(path, "utf8"), relative(process.cwd(), path)));
    } catch (error) {
      problems.push(error.message);
    }
  }
  const ofDeploy = objects.length;
  objects.push(...extraObjects);
  for (const object of objects) problems.push(...(await validateObject(object, crds, validateSchedule, ownCrds)));

  const dashboards = readdirSync(join(deployDir, "monitoring")).filter((name) => name.endsWith(".json") && name.includes("dashboard"));
  for (const name of dashboards) problems.push(...dashboardProblems(join(deployDir, "monitoring", name)));
  if (typeCheck) problems.push(...(await typeProblems(deployDir, objects, extraScripts)));
  return { problems, objects: ofDeploy, renderedKinds };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const deployDir = resolve(process.argv[2] ?? join(sourceRoot, "deploy"));
  if (!existsSync(deployDir)) {
    console.error(`validate: no ${deployDir}`);
    process.exit(2);
  }
  const { problems, objects } = await validateDeploy(deployDir);
  for (const problem of problems) console.error(problem);
  console.log(`validate: ${objects} objects in ${deployDir}: ${problems.length ? `${problems.length} problems` : "all valid"}`);
  process.exit(problems.length ? 1 : 0);
}
