// Runs the shared test vectors (tests/vectors/*.json) through the Node API, with the rules of
// tests/vectors/README.md (the same as the Rust runner, tests/tests/vectors.rs).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { Engine, Model } = require('../index.js')

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'tests', 'vectors')
const MIN_VECTORS = 20
const OUTCOME_KEYS = ['transitions', 'actions', 'retracted_transitions', 'retracted_actions', 'merges', 'duplicates', 'rejected']
const OPS = ['ingest', 'ingest_batch', 'ingest_json_lines', 'advance_to', 'consent', 'erase', 'snapshot_restore']

const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort()

function loadModel (m) {
  if (typeof m === 'string') return Model.preset(m)
  if (m && typeof m === 'object') return Model.fromJson(JSON.stringify(m))
  throw new Error('`model` must be a preset name or a model object')
}

/** JSON equality: numbers by value, objects regardless of key order. */
function jsonEq (a, b) {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEq(x, b[i]))
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a)
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && jsonEq(a[k], b[k]))
  }
  return a === b
}

const show = (v) => JSON.stringify(v, null, 2)

function runOp (engine, op, arg) {
  switch (op) {
    case 'ingest':
      assert.ok(arg && typeof arg === 'object', '`ingest` takes a touchpoint object')
      return { outcome: engine.ingest(arg) }
    case 'ingest_batch':
      assert.ok(Array.isArray(arg), '`ingest_batch` takes a list')
      return { outcome: engine.ingestMany(arg) }
    case 'ingest_json_lines':
      assert.equal(typeof arg, 'string', '`ingest_json_lines` takes a string')
      return { outcome: engine.ingestNdjson(Buffer.from(arg, 'utf8')) }
    case 'advance_to':
      return { outcome: engine.advanceTo(arg) }
    case 'consent':
      return { outcome: engine.setConsent(arg.customer, arg.channel, arg.granted, arg.at) }
    case 'erase':
      return { erased: engine.erase(arg) }
    case 'snapshot_restore':
      assert.equal(arg, true, '`snapshot_restore` takes `true`')
      return { engine: Engine.restore(engine.snapshot()) }
  }
  throw new Error(`unknown op ${op}`)
}

function checkExpect (op, produced, expect, fail) {
  if ('engine' in produced) {
    if (Object.keys(expect).length) fail('this operation has no outcome to expect')
    return
  }
  if ('erased' in produced) {
    for (const k of Object.keys(expect)) if (k !== 'erased') fail(`unknown expect key \`${k}\` for erase`)
    if ('erased' in expect && !jsonEq(expect.erased, { ...produced.erased })) {
      fail(`\`erased\` differs:\n expected ${show(expect.erased)}\n actual ${show(produced.erased)}`)
    }
    return
  }
  for (const k of Object.keys(expect)) if (!OUTCOME_KEYS.includes(k)) fail(`unknown expect key \`${k}\` for ${op}`)
  const actual = produced.outcome.toJSON()
  for (const key of OUTCOME_KEYS) {
    const want = expect[key] ?? []
    const got = actual[key] ?? []
    if (key === 'rejected') {
      let bad = want.length !== got.length
      want.forEach((w, i) => {
        for (const k of Object.keys(w)) {
          if (!['index', 'code', 'line', 'path'].includes(k)) fail(`unknown key \`${k}\` in a \`rejected\` element`)
          if (!got[i] || !jsonEq(w[k], got[i][k] ?? null)) bad = true
        }
      })
      if (bad) fail(`\`rejected\` differs:\n expected ${show(want)}\n actual ${show(got)}`)
    } else if (!jsonEq(want, got)) {
      fail(`\`${key}\` differs:\n expected ${show(want)}\n actual ${show(got)}`)
    }
  }
}

function checkFinal (engine, fin, fail) {
  for (const k of Object.keys(fin)) {
    if (!['customers', 'absent', 'stage_counts', 'customer_ids'].includes(k)) fail(`unknown key \`${k}\` in \`final\``)
  }
  for (const [id, want] of Object.entries(fin.customers ?? {})) {
    const view = engine.customer(id)
    if (!view) { fail(`customer \`${id}\`: not found`); continue }
    for (const [field, w] of Object.entries(want)) {
      if (!(field in view)) fail(`customer \`${id}\`: no field \`${field}\` in the view`)
      else if (!jsonEq(w, view[field])) fail(`customers.${id}.${field} differs:\n expected ${show(w)}\n actual ${show(view[field])}`)
    }
  }
  for (const id of fin.absent ?? []) {
    const view = engine.customer(id)
    if (view) fail(`customer \`${id}\` should be absent, found ${show(view)}`)
  }
  const counts = engine.stageCounts()
  for (const [stage, n] of Object.entries(fin.stage_counts ?? {})) {
    if (!(stage in counts)) fail(`stage_counts: no stage \`${stage}\` in the model`)
    else if (counts[stage] !== n) fail(`stage_counts.${stage}: expected ${n}, got ${counts[stage]}`)
  }
  if ('customer_ids' in fin && !jsonEq(fin.customer_ids, engine.customerIds())) {
    fail(`customer_ids differs:\n expected ${show(fin.customer_ids)}\n actual ${show(engine.customerIds())}`)
  }
}

function runVector (name, v) {
  const failures = []
  const failAt = (place) => (what) => failures.push(`${name}: ${place}: ${what}`)
  const model = loadModel(v.model)
  let engine = new Engine(model)
  ;(v.steps ?? []).forEach((step, i) => {
    const fail = failAt(`step ${i}`)
    const keys = Object.keys(step)
    for (const k of keys) if (!OPS.includes(k) && !['expect', 'error', 'comment'].includes(k)) fail(`unknown step key \`${k}\``)
    const ops = OPS.filter((op) => op in step)
    if (ops.length !== 1) { fail(`a step needs exactly one operation, has ${ops}`); return }
    const op = ops[0]
    if ('expect' in step && 'error' in step) { fail('a step has `expect` or `error`, not both'); return }
    let produced, error
    try {
      produced = runOp(engine, op, step[op])
    } catch (e) {
      error = e
    }
    if (error) {
      if (!('error' in step)) { fail(`${op} failed unexpectedly: [${error.code}] ${error.message}`); return }
      assert.ok(error instanceof Error, 'errors are Error objects')
      if (error.code !== step.error.code) fail(`${op}: expected error \`${step.error.code}\`, got \`${error.code}\`: ${error.message}`)
      if ('path' in step.error && (error.path ?? '') !== step.error.path) {
        fail(`${op}: expected error path ${JSON.stringify(step.error.path)}, got ${JSON.stringify(error.path ?? '')}`)
      }
      return
    }
    if ('error' in step) { fail(`${op}: expected error ${show(step.error)}, but it succeeded`); return }
    if (produced.engine) engine = produced.engine
    if (step.expect) checkExpect(op, produced, step.expect, fail)
  })
  if (v.final) checkFinal(engine, v.final, failAt('final'))
  return failures
}

let ran = 0
for (const file of files) {
  const v = JSON.parse(readFileSync(join(dir, file), 'utf8'))
  const name = file.replace(/\.json$/, '')
  test(`vector ${name}`, { skip: v.known_bug ? `known bug: ${v.known_bug}` : false }, () => {
    assert.equal(v.name, name, '`name` is the file name')
    const failures = runVector(name, v)
    ran += 1
    assert.deepEqual(failures, [], failures.join('\n\n'))
  })
}

test('at least 20 vectors ran', () => {
  assert.ok(ran >= MIN_VECTORS, `only ${ran} vectors ran`)
})
