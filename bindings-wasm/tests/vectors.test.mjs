// Runs the shared test vectors (tests/vectors/*.json) through the WebAssembly build under Node,
// with the rules of tests/vectors/README.md, as tests/tests/vectors.rs does for Rust.
//   node --test bindings-wasm/tests/vectors.test.mjs      (after bindings-wasm/build.sh)
//
// The JS API names fields in camelCase and gives times as epoch milliseconds; the expectations
// in the vectors (snake_case, RFC 3339) are converted to that shape before comparing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Engine } from '../pkg/node.mjs';

const MIN_VECTORS = 20;
const OUTCOME_KEYS = ['transitions', 'actions', 'retracted_transitions', 'retracted_actions', 'merges', 'duplicates', 'rejected'];
const OPS = ['ingest', 'ingest_batch', 'ingest_json_lines', 'advance_to', 'consent', 'erase', 'snapshot_restore'];

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'tests', 'vectors');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

// --- expectations in the JS shape ---------------------------------------------------------
const ms = (t) => (typeof t === 'number' ? t : Date.parse(t));
const camel = (k) => k.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
const transition = (t) => ({ ...t, at: ms(t.at) });
const action = (a) => ({ ...a, at: ms(a.at) });
const merge = (m) => ({ ...m, at: ms(m.at) });
const SHAPE = { transitions: transition, actions: action, retracted_transitions: transition, retracted_actions: action, merges: merge, duplicates: (d) => d };
const CUSTOMER_FIELDS = {
  id: (v) => v,
  stage: (v) => v,
  since: (v) => (v === null ? null : ms(v)),
  keys: (v) => v,
  history: (v) => v.map(({ entered_at, ...h }) => ({ ...h, enteredAt: ms(entered_at) })),
  touchpoints: (v) => v,
  last_seen: (v) => (v === null ? null : ms(v)),
  consent: (v) => v.map((c) => ({ ...c, at: ms(c.at) })),
};

/** Why a step's argument is malformed (as the Rust runner checks), or null. */
function malformed(op, arg) {
  const object = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
  switch (op) {
    case 'ingest': return object(arg) ? null : '`ingest` takes a touchpoint object';
    case 'ingest_batch': return Array.isArray(arg) ? null : '`ingest_batch` takes a list';
    case 'ingest_json_lines': return typeof arg === 'string' ? null : '`ingest_json_lines` takes a string';
    case 'consent': return object(arg) && typeof arg.customer === 'string' && typeof arg.channel === 'string' && typeof arg.granted === 'boolean' ? null : 'consent needs `customer`, `channel`, `granted`, `at`';
    case 'erase': return typeof arg === 'string' ? null : '`erase` takes a customer id';
    case 'snapshot_restore': return arg === true ? null : '`snapshot_restore` takes `true`';
    default: return null;
  }
}

function runOp(engine, op, arg) {
  switch (op) {
    case 'ingest': return { outcome: engine.ingest(arg) };
    case 'ingest_batch': return { outcome: engine.ingestBatch(arg) };
    case 'ingest_json_lines': return { outcome: engine.ingestJsonLines(arg) };
    case 'advance_to': return { outcome: engine.advanceTo(arg) };
    case 'consent': return { outcome: engine.setConsent(arg.customer, arg.channel, arg.granted, arg.at) };
    case 'erase': return { erased: engine.erase(arg) };
    case 'snapshot_restore': {
      const restored = Engine.restore(engine.snapshot());
      engine.free();
      return { engine: restored };
    }
  }
}

function checkExpect(op, produced, expect, fail) {
  if (produced.erased !== undefined) {
    for (const k of Object.keys(expect)) if (k !== 'erased') fail(`unknown expect key \`${k}\` for erase`);
    if ('erased' in expect) same('erased', produced.erased, expect.erased, fail);
    return;
  }
  if (produced.outcome === undefined) {
    if (Object.keys(expect).length) fail('this operation has no outcome to expect');
    return;
  }
  for (const k of Object.keys(expect)) if (!OUTCOME_KEYS.includes(k)) fail(`unknown expect key \`${k}\` for ${op}`);
  const out = produced.outcome;
  for (const key of OUTCOME_KEYS) {
    const want = expect[key] ?? [];
    const got = out[camel(key)];
    if (key === 'rejected') {
      // index and code always; line and path where the vector gives them.
      const bad = want.length !== got.length || want.some((w, i) => Object.keys(w).some((k) => {
        if (!['index', 'code', 'line', 'path'].includes(k)) fail(`unknown key \`${k}\` in a \`rejected\` element`);
        return !isDeepStrictEqual(w[k], got[i][k]);
      }));
      if (bad) fail(`\`rejected\` differs:\n  expected ${JSON.stringify(want)}\n  actual   ${JSON.stringify(got.map(({ message, ...r }) => r))}`);
    } else {
      same(key, got, want.map(SHAPE[key]), fail);
    }
  }
}

import { isDeepStrictEqual } from 'node:util';
function same(what, got, want, fail) {
  if (!isDeepStrictEqual(got, want)) {
    fail(`\`${what}\` differs:\n  expected ${JSON.stringify(want)}\n  actual   ${JSON.stringify(got)}`);
  }
}

function checkFinal(engine, fin, fail) {
  for (const k of Object.keys(fin)) {
    if (!['customers', 'absent', 'stage_counts', 'customer_ids'].includes(k)) fail(`unknown key \`${k}\` in \`final\``);
  }
  for (const [id, want] of Object.entries(fin.customers ?? {})) {
    const view = engine.customer(id);
    if (view === null) { fail(`customer \`${id}\`: not found`); continue; }
    for (const [field, w] of Object.entries(want)) {
      const shape = CUSTOMER_FIELDS[field];
      if (!shape) { fail(`customer \`${id}\`: no field \`${field}\` in the view`); continue; }
      same(`customers.${id}.${field}`, view[camel(field)], shape(w), fail);
    }
  }
  for (const id of fin.absent ?? []) {
    const view = engine.customer(id);
    if (view !== null) fail(`customer \`${id}\` should be absent, found ${JSON.stringify(view)}`);
  }
  if (fin.stage_counts) {
    const counts = new Map(engine.stageCounts().map(({ stage, count }) => [stage, count]));
    for (const [stage, n] of Object.entries(fin.stage_counts)) {
      if (!counts.has(stage)) fail(`stage_counts: no stage \`${stage}\` in the model`);
      else if (counts.get(stage) !== n) fail(`stage_counts.${stage}: expected ${n}, got ${counts.get(stage)}`);
    }
  }
  if (fin.customer_ids) same('customer_ids', engine.customerIds(), fin.customer_ids, fail);
}

function runVector(v) {
  const failures = [];
  let engine = new Engine(v.model);
  v.steps.forEach((step, i) => {
    const fail = (what) => failures.push(`step ${i}: ${what}`);
    const ops = OPS.filter((op) => op in step);
    for (const k of Object.keys(step)) {
      if (!OPS.includes(k) && !['expect', 'error', 'comment'].includes(k)) fail(`unknown step key \`${k}\``);
    }
    if (ops.length !== 1) return fail(`a step needs exactly one operation, has ${JSON.stringify(ops)}`);
    if ('expect' in step && 'error' in step) return fail('a step has `expect` or `error`, not both');
    const op = ops[0];
    const bad = malformed(op, step[op]);
    if (bad) return fail(`${op}: malformed step: ${bad}`);
    let produced;
    try {
      produced = runOp(engine, op, step[op]);
    } catch (e) {
      if (!(e instanceof Error) || typeof e.code !== 'string') return fail(`${op} threw a non-coded error: ${e}`);
      if (!step.error) return fail(`${op} failed unexpectedly: [${e.code}] ${e.message}`);
      if (e.code !== step.error.code) fail(`expected error ${step.error.code}, got [${e.code}] ${e.message}`);
      if ('path' in step.error && (e.path ?? '') !== step.error.path) fail(`expected error path \`${step.error.path}\`, got \`${e.path ?? ''}\``);
      return;
    }
    if (produced.engine) engine = produced.engine;
    if (step.error) return fail(`expected error ${step.error.code}, the step succeeded`);
    if (step.expect) checkExpect(op, produced, step.expect, fail);
  });
  if (v.final) checkFinal(engine, v.final, (what) => failures.push(`final: ${what}`));
  engine.free();
  return failures;
}

let ran = 0;
for (const file of files) {
  const v = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
  const name = file.replace(/\.json$/, '');
  if (v.known_bug) {
    test(name, { skip: `known bug: ${v.known_bug}` }, () => {});
    continue;
  }
  ran += 1;
  test(name, () => {
    assert.equal(v.name, name, '`name` must be the file name');
    const failures = runVector(v);
    assert.deepEqual(failures, [], `${failures.length} failure(s) in ${name}:\n\n${failures.join('\n\n')}`);
  });
}

test(`at least ${MIN_VECTORS} vectors ran`, () => {
  assert.ok(ran >= MIN_VECTORS, `only ${ran} vectors ran`);
});
