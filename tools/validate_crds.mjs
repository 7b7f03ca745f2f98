#!/usr/bin/env node
// Validates KEDA and Prometheus Operator custom resources against their CRD schemas offline.
//
// Usage: node tools/validate_crds.mjs [NODE_MODULES_DIR] < objects
//   objects: JSON objects on stdin, one per line, or one JSON array of them.
//   NODE_MODULES_DIR: where @kubernetes-models/{keda,prometheus-operator} are installed; else the
//   first entry of $NODE_PATH; else .tools/node_modules of this repository.
// Prints one line per invalid object ("<kind>/<name>: <error>") and exits 1 if any is invalid,
// 2 on unusable input (bad JSON, an unsupported kind, packages missing).
//
// Two checks per object: the package's CRD schema (`new X(obj).validate()`: types, enums, required
// fields), and unknown fields. The CRD schemas do not forbid extra keys, so a misspelt field
// (`fallbak:`) would pass and be silently pruned by the API server; the field names are read from
// the package's TypeScript declarations (.d.ts), which list every property of every type.
//
// The packages declare engines node>=22 but run on node 20 (plain ESM + precompiled ajv
// validators, no node-22-only API); they are imported by file URL because ESM ignores NODE_PATH.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const nodeModules = resolve(
  process.argv[2] ?? (process.env.NODE_PATH || "").split(":").find(Boolean) ?? join(here, "..", ".tools", "node_modules"),
);

// apiVersion/kind -> module path of its model class inside node_modules.
const MODELS = {
  "keda.sh/v1alpha1/ScaledObject": "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject.js",
  "keda.sh/v1alpha1/ScaledJob": "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledJob.js",
  "keda.sh/v1alpha1/TriggerAuthentication": "@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication.js",
  "keda.sh/v1alpha1/ClusterTriggerAuthentication": "@kubernetes-models/keda/keda.sh/v1alpha1/ClusterTriggerAuthentication.js",
  "monitoring.coreos.com/v1/ServiceMonitor": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor.js",
  "monitoring.coreos.com/v1/PodMonitor": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor.js",
  "monitoring.coreos.com/v1/PrometheusRule": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule.js",
};

function fail(message) {
  process.stderr.write(`validate_crds: ${message}\n`);
  process.exit(2);
}

function parseObjects(text) {
  const trimmed = text.trim();
  if (!trimmed) return [];
  if (trimmed.startsWith("[")) {
    const parsed = JSON.parse(trimmed);
    if (!Array.isArray(parsed)) fail("stdin must be a JSON array or JSON objects one per line");
    return parsed;
  }
  return trimmed
    .split("\n")
    .filter((line) => line.trim())
    .map((line, i) => {
      try {
        return JSON.parse(line);
      } catch (err) {
        fail(`line ${i + 1} is not JSON: ${err.message}`);
      }
    });
}

async function loadModel(key) {
  const file = join(nodeModules, MODELS[key]);
  if (!existsSync(file)) fail(`${file} not found; install @kubernetes-models/keda and @kubernetes-models/prometheus-operator there`);
  const module = await import(pathToFileURL(file).href);
  return module[key.split("/").pop()];
}

// ---- unknown-field check from the .d.ts declarations

const declarationCache = new Map();

// Declarations of one module: its imports (type name -> module file) and interfaces (name -> body).
function declarations(file) {
  if (declarationCache.has(file)) return declarationCache.get(file);
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    declarationCache.set(file, null);
    return null;
  }
  const imports = new Map();
  for (const m of text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*"([^"]+)"/g)) {
    for (const part of m[1].split(",")) {
      const [orig, alias] = part.trim().split(/\s+as\s+/);
      if (orig) imports.set((alias ?? orig).trim(), resolveModule(file, m[2], orig.trim()));
    }
  }
  const interfaces = new Map();
  for (const m of text.matchAll(/export interface (\w+)(?:\s+extends\s+[\w, ]+)?\s*\{/g)) {
    interfaces.set(m[1], balanced(text, m.index + m[0].length - 1));
  }
  const result = { imports, interfaces };
  declarationCache.set(file, result);
  return result;
}

function resolveModule(fromFile, spec, typeName) {
  const base = spec.startsWith(".") ? resolve(dirname(fromFile), spec) : join(nodeModules, spec);
  return { file: base.replace(/\.js$/, "") + ".d.ts", typeName };
}

// Text between the brace at `open` and its match (exclusive).
function balanced(text, open) {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return text.slice(open + 1, i);
  }
  return text.slice(open + 1);
}

// Properties of an interface or object-literal body: name -> type text; null for an index signature (any key).
function properties(body) {
  const props = new Map();
  let i = 0;
  while (i < body.length) {
    const rest = body.slice(i);
    const comment = rest.match(/^\s*\/\*[\s\S]*?\*\//);
    if (comment) { i += comment[0].length; continue; }
    if (/^\s*\[key: string\]/.test(rest)) return null;
    const prop = rest.match(/^\s*"([^"]+)"\??:\s*/);
    if (!prop) { const ws = rest.match(/^\s+/); if (ws) { i += ws[0].length; continue; } break; }
    i += prop[0].length;
    let depth = 0, j = i;
    for (; j < body.length; j++) {
      const c = body[j];
      if (c === "{" || c === "<" || c === "(") depth++;
      else if (c === "}" || c === ">" || c === ")") depth--;
      else if (c === ";" && depth === 0) break;
    }
    props.set(prop[1], body.slice(i, j).trim());
    i = j + 1;
  }
  return props;
}

// Walks `value` against `typeText` (declared in `context`) and collects unknown field paths.
function checkFields(value, typeText, context, path, problems) {
  if (value === null || typeof value !== "object") return;
  typeText = typeText.trim();
  const array = typeText.match(/^Array<([\s\S]+)>$/);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, k) => checkFields(v, array[1], context, `${path}[${k}]`, problems));
    return;
  }
  let body = null, where = context;
  if (typeText.startsWith("{")) {
    body = balanced(typeText, 0);
  } else if (/^\w+$/.test(typeText)) {
    const local = context.decl.interfaces.get(typeText);
    if (local !== undefined) body = local;
    else {
      const target = context.decl.imports.get(typeText);
      const decl = target && declarations(target.file);
      if (!decl) return; // a type we cannot see (e.g. base types): not checked
      const name = decl.interfaces.has(target.typeName) ? target.typeName : [...decl.interfaces.keys()][0];
      body = decl.interfaces.get(name);
      where = { decl };
    }
  }
  if (body == null || Array.isArray(value)) return;
  const props = properties(body);
  if (props === null) return;
  for (const [key, child] of Object.entries(value)) {
    if (!props.has(key)) problems.push(`${path}.${key} is not a field of this type`);
    else checkFields(child, props.get(key), where, `${path}.${key}`, problems);
  }
}

function unknownFields(key, obj) {
  const file = join(nodeModules, MODELS[key]).replace(/\.js$/, ".d.ts");
  const decl = declarations(file);
  if (!decl) fail(`${file} not found`);
  const kind = key.split("/").pop();
  const problems = [];
  checkFields(obj, `I${kind}`, { decl }, "data", problems);
  return problems;
}

let objects;
try {
  objects = parseObjects(readFileSync(0, "utf8"));
} catch (err) {
  fail(`stdin is not JSON: ${err.message}`);
}

let invalid = 0;
for (const obj of objects) {
  const key = `${obj?.apiVersion}/${obj?.kind}`;
  const label = `${obj?.kind}/${obj?.metadata?.name ?? "(no name)"}`;
  if (!(key in MODELS)) fail(`${label}: no schema for ${key}`);
  const Model = await loadModel(key);
  const problems = unknownFields(key, obj);
  try {
    new Model(obj).validate();
  } catch (err) {
    problems.unshift(err.message);
  }
  if (problems.length) {
    invalid += 1;
    process.stdout.write(`${label}: ${problems.join(", ")}\n`);
  }
}
process.stdout.write(`${objects.length - invalid} valid, ${invalid} invalid\n`);
process.exit(invalid ? 1 : 0);
