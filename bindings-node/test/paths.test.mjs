// Every way in gives the same result: `ingest` one by one, `ingestMany`, `ingestManyAsync`,
// `ingestColumns` and `ingestNdjson` (the core's own JSON reader) on the same varied touchpoints,
// good and bad (touchpoints with several problems in different field orders, wrong types, NaN,
// nested properties, unknown fields, huge strings, odd objects): the same rejections (index,
// code, path, message), the same outputs and the same final snapshot bytes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { Engine, Model } = require('../index.js')

const T0 = Date.parse('2026-03-01T10:00:00Z')
const model = Model.preset('ecommerce')
const big = 'x'.repeat(300_000)

/** Touchpoints JSON can carry as they are (JSON.stringify writes each exactly). */
function jsonable () {
  const out = []
  let t = T0
  const next = () => (t += 1000)
  for (let i = 0; i < 40; i++) {
    const c = `c${i % 7}`
    out.push({ customer_id: c, channel: 'web', kind: i % 5 === 0 ? 'add_to_cart' : 'page_view', at: next() })
    if (i % 6 === 0) out.push({ kind: 'purchase', at: new Date(next()).toISOString(), channel: 'web', customer_id: c, value: 19.99 + i / 7, id: `o${i}` })
    if (i % 9 === 0) out.push({ customer_id: c, channel: 'web', kind: 'product_view', at: next(), properties: { sku: `s${i}`, qty: i, gift: i % 2 === 0, note: null } })
  }
  out.push(
    // Several problems, in different field orders: the first in field order is reported.
    { channel: 'fax', customer_id: '', kind: 'teleport', at: 'soon' },
    { customer_id: '', channel: 'fax', kind: 'teleport', at: 'soon' },
    { at: 'soon', kind: 'teleport', channel: 'fax', customer_id: '' },
    { kind: 'teleport', customer_id: 'c1', channel: 'web', at: T0 },
    { customer_id: 'c1', channel: 'web', kind: 'page_view', at: next(), properties: { a: 'x'.repeat(5000), b: { deep: 1 } } },
    { customer_id: 'c1', channel: 'web', kind: 'page_view', at: next(), properties: { b: { deep: 1 }, a: 1 } },
    { customer_id: 'c1', channel: 'web', kind: 'page_view', at: next(), properties: [1, 2] },
    { customer_id: 'c1', channel: 'web', kind: 'page_view', at: next(), properties: 'sku' },
    // Missing fields.
    { customer_id: 'c1', channel: 'web', at: next() },
    { customer_id: 'c1', kind: 'page_view', at: next() },
    { customer_id: 'c1', channel: 'web', kind: 'page_view' },
    { channel: 'web', kind: 'page_view', at: next() },
    {},
    // Unknown fields, wrong types.
    { customer_id: 'c1', channel: 'web', kind: 'page_view', at: next(), colour: 'red' },
    { colour: 'red', customer_id: 'c1', channel: 'web', kind: 'teleport', at: next() },
    { customer_id: 'c1', channel: 5, kind: 'page_view', at: next() },
    { customer_id: 'c1', channel: null, kind: 'page_view', at: next() },
    { customer_id: 'c1', channel: 'web', kind: 'page_view', at: true },
    { customer_id: 'c1', channel: 'web', kind: 'page_view', at: 1.5 },
    { customer_id: 'c1', channel: 'web', kind: 'page_view', at: -1e18 },
    { customer_id: 'c1', channel: 'web', kind: 'page_view', at: '2026-13-45T00:00:00Z' },
    { customer_id: 'c1', channel: 'web', kind: 'purchase', at: next(), value: 'lots' },
    { customer_id: 'c1', channel: 'web', kind: 'purchase', at: next(), value: null },
    { customer_id: 'c1', channel: 'web', kind: 'purchase', at: next(), value: 0.1 + 0.2 },
    { customer_id: 'c1', channel: 'web', kind: 'purchase', at: next(), value: 1e300 },
    { customer_id: 7, channel: 'web', kind: 'page_view', at: next() },
    { customer_id: 'c2', channel: 'web', kind: 'page_view', at: next(), id: 42 },
    { customer_id: ['c1'], channel: 'web', kind: 'page_view', at: next() },
    { customer_id: null, channel: 'web', kind: 'page_view', at: next() },
    // Identities, duplicates, late events, huge and odd strings.
    { email: 'a@example.com', customer_id: 'c8', channel: 'email', kind: 'email_open', at: next() },
    { customer_id: 'c9', email: 'a@example.com', channel: 'email', kind: 'email_open', at: next() },
    { customer_id: 'c1', channel: 'web', kind: 'purchase', at: next(), id: 'o0' },
    { customer_id: 'c1', channel: 'web', kind: 'page_view', at: T0 - 86_400_000 * 400 },
    { customer_id: big, channel: 'web', kind: 'page_view', at: next() },
    { customer_id: 'c1', channel: big, kind: 'page_view', at: next() },
    { customer_id: 'c1', channel: 'web', kind: 'page_view', at: next(), properties: { s: big } },
    { customer_id: 'c\u00e9\u{1F600}\n"\\', channel: 'web', kind: 'page_view', at: next(), properties: { 'n\u00e4me': 'v\u00e4l\u2028' } },
    { customer_id: 'c10', channel: 'web', kind: 'page_view', at: next(), properties: Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`p${i}`, i])) },
    null, 5, 'text', [],
  )
  return out
}

/** Touchpoints JSON cannot carry as they are (the writer's own errors and conversions). */
function jsOnly () {
  let t = T0 + 10_000_000
  const next = () => (t += 1000)
  class Tp { constructor () { Object.assign(this, { customer_id: 'c1', channel: 'web', kind: 'page_view', at: next() }) } }
  const bare = Object.create(null)
  Object.assign(bare, { customer_id: 'c2', channel: 'web', kind: 'page_view', at: next() })
  const throwing = { customer_id: 'c1', channel: 'web', kind: 'page_view' }
  Object.defineProperty(throwing, 'at', { enumerable: true, get () { throw new Error('no time') } })
  const getter = { customer_id: 'c3', channel: 'web', kind: 'page_view' }
  Object.defineProperty(getter, 'at', { enumerable: true, get: () => T0 + 20_000_000 })
  const withArray = Object.assign([], { customer_id: 'c1', channel: 'web', kind: 'page_view', at: next() })
  return [
    { customer_id: 'c1', channel: 'web', kind: 'purchase', at: next(), value: NaN },
    { customer_id: 'c1', channel: 'web', kind: 'purchase', at: next(), value: -0 },
    { customer_id: 'c1', channel: 'web', kind: 'purchase', at: next(), value: Infinity },
    { customer_id: 'c1', channel: 'web', kind: 'page_view', at: NaN },
    { customer_id: 'c1', channel: 'web', kind: 'page_view', at: new Date(next()) },
    { customer_id: 'c1', channel: 'web', kind: 'page_view', at: new Date(NaN) },
    { customer_id: 'c1', channel: 'web', kind: 'page_view', at: next(), properties: { n: NaN } },
    { customer_id: 'c1', channel: 'web', kind: 'page_view', at: next(), properties: { f () {} } },
    { customer_id: 'c1', channel: 'web', kind: 'page_view', at: next(), properties: new Uint8Array(3) },
    { customer_id: 'c1', channel: 'web', kind: 'page_view', at: next(), properties: { u: undefined, s: 'kept' } },
    { customer_id: 'c1', channel: 'web', kind: undefined, at: next() },
    { customer_id: 'c1', channel: 'web', kind: 'page_view', at: BigInt(next()) },
    { customer_id: 'c1', channel: 'web', kind: 'page_view', at: next(), id: Symbol('x') },
    { customer_id: 'c1', channel: 'web', kind: 'page_view', at: next(), value: () => 1 },
    { customer_id: 'c\ud800', channel: 'web', kind: 'page_view', at: next() },
    new Tp(), bare, throwing, getter, withArray, new Date(0), undefined,
  ]
}

function rejections (out) {
  return out.rejected.map((r) => [r.index, r.code, r.path, r.message])
}

/** `ingest` one by one: errors as rejections, outputs concatenated. */
function oneByOne (engine, list) {
  const rejected = []
  list.forEach((tp, index) => {
    try {
      engine.ingest(tp)
    } catch (e) {
      rejected.push([index, e.code, e.path || null, e.message.replace(/^\[[a-z_]+\] /, '')])
    }
  })
  return rejected
}

const same = (a, b) => assert.ok(Buffer.compare(a.snapshot(), b.snapshot()) === 0, 'snapshots differ')

test('ingestMany, ingestManyAsync and ingestNdjson agree on touchpoints JSON can carry', async () => {
  const list = jsonable()
  const ndjson = list.map((t) => JSON.stringify(t) ?? 'undefined').join('\n')
  const a = new Engine(model)
  const b = new Engine(model)
  const c = new Engine(model)
  const outA = a.ingestMany(list)
  const outB = b.ingestNdjson(ndjson)
  const outC = await c.ingestManyAsync(list)
  assert.ok(outA.rejected.length > 30, 'the list has many bad touchpoints')
  assert.ok(outA.transitions.length > 10, 'and good ones')
  // NDJSON rejections also name the line; serde's column of a JSON syntax problem depends on the
  // text (the writer writes an array inside a touchpoint as `[]`).
  const plain = (out) => rejections(out).map(([i, code, path, m]) => [i, code, path, m.replace(/line \d+, /, '').replace(/ at line \d+ column \d+/, '')])
  assert.deepEqual(plain(outA), plain(outB))
  const strip = (o) => ({ ...o.toJSON(), rejected: [] })
  assert.deepEqual(strip(outA), strip(outB))
  assert.deepEqual(outC.toJSON(), outA.toJSON())
  same(a, b)
  same(a, c)
})

test('ingestMany equals ingest one by one, on every kind of touchpoint', () => {
  const list = [...jsonable(), ...jsOnly()]
  const a = new Engine(model)
  const b = new Engine(model)
  const outA = a.ingestMany(list)
  const rejectedB = oneByOne(b, list)
  assert.deepEqual(rejections(outA).map(([i, code, path]) => [i, code, path]), rejectedB.map(([i, code, path]) => [i, code, path]))
  same(a, b)
})

test('ingestColumns equals ingestMany on rows with several problems and missing cells', () => {
  let t = T0
  const rows = [
    { customer_id: 'c1', channel: 'web', kind: 'add_to_cart', at: (t += 1000), properties: { sku: 'A', n: 0.1 + 0.2 } },
    { customer_id: '', channel: 'fax', kind: 'teleport', at: (t += 1000) },
    { channel: 'fax', kind: 'teleport', at: (t += 1000) },
    { customer_id: 'c1', kind: 'teleport', at: (t += 1000) },
    { customer_id: 'c2', channel: 'web', at: (t += 1000), properties: { sku: big } },
    { customer_id: 'c2', channel: 'web', kind: 'purchase', at: (t += 1000), value: 1e300, id: 'o1', properties: { n: 2.5, gift: true } },
    { customer_id: 'c2', channel: 'web', kind: 'purchase', at: (t += 1000), value: 5, id: 'o1' },
    { customer_id: 'c1', channel: 'web', kind: 'page_view', at: T0 - 86_400_000 * 400 },
    { customer_id: 'c\u00e9\u{1F600}"', email: 'x@example.com', channel: 'email', kind: 'email_open', at: (t += 1000), id: '' },
  ]
  const col = (k) => rows.map((r) => r[k])
  const prop = (k) => rows.map((r) => r.properties?.[k])
  const a = new Engine(model)
  const b = new Engine(model)
  const outA = a.ingestMany(rows)
  const outB = b.ingestColumns({
    id: col('id'),
    channel: col('channel'),
    customer_id: col('customer_id'),
    kind: col('kind'),
    email: col('email'),
    at: Float64Array.from(col('at')),
    value: Float64Array.from(rows, (r) => r.value ?? NaN),
    properties: { sku: prop('sku'), n: prop('n'), gift: prop('gift') },
  })
  // The columns' field order is the JSON field order of each row.
  const c = new Engine(model)
  const outC = c.ingestMany(rows.map((r) => {
    const o = {}
    for (const k of ['id', 'channel', 'customer_id', 'kind', 'email', 'at', 'value', 'properties']) if (r[k] !== undefined) o[k] = r[k]
    return o
  }))
  assert.ok(outB.rejected.length >= 5)
  assert.deepEqual(rejections(outB), rejections(outC))
  assert.deepEqual(outB.toJSON().transitions, outA.toJSON().transitions)
  same(b, a)
  same(b, c)
})

test('an empty outcome of ingest or advanceTo is shared and frozen; its lists are still arrays', () => {
  const e = new Engine(model)
  const first = e.ingest({ customer_id: 'c1', channel: 'web', kind: 'page_view', at: T0 })
  assert.equal(first.isEmpty, false)
  assert.equal(Object.isFrozen(first), false)
  assert.equal(first.transitions, first.transitions, 'lists are cached on a non-empty outcome')
  const a = e.ingest({ customer_id: 'c1', channel: 'web', kind: 'page_view', at: T0 + 1 })
  const b = e.advanceTo(T0 + 2)
  assert.ok(a.isEmpty && b.isEmpty)
  assert.equal(a, b)
  assert.ok(Object.isFrozen(a))
  assert.ok(a instanceof first.constructor)
  a.transitions.push('x')
  assert.deepEqual(a.transitions, [])
  assert.deepEqual(a.toJSON(), { transitions: [], actions: [], retracted_transitions: [], retracted_actions: [], merges: [], duplicates: [], rejected: [] })
  assert.equal(e.ingest({ customer_id: 'c1', channel: 'web', kind: 'add_to_cart', at: T0 + 3 }).transitions.length, 1)
})

test('the fast paths work in worker threads (their own environments) and across worker teardown', async () => {
  const { Worker } = await import('node:worker_threads')
  const code = `
    const { parentPort, workerData } = require('node:worker_threads')
    const { Engine, Model } = require(workerData.index)
    const e = new Engine(Model.preset('ecommerce'))
    const list = workerData.list
    const one = list.map((t) => { try { return e.ingest(t).isEmpty } catch (err) { return err.code } })
    const many = new Engine(Model.preset('ecommerce')).ingestMany(list.concat(list)).rejected.map((r) => r.code)
    parentPort.postMessage({ one, many, snapshot: e.snapshot() })
  `
  const list = jsonable().filter((t) => t !== null && typeof t === 'object' && !Array.isArray(t))
  const local = new Engine(model)
  const one = list.map((t) => { try { return local.ingest(t).isEmpty } catch (err) { return err.code } })
  const many = new Engine(model).ingestMany(list.concat(list)).rejected.map((r) => r.code)
  for (let round = 0; round < 2; round++) {
    const w = new Worker(code, { eval: true, workerData: { index: require.resolve('../index.js'), list } })
    const got = await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject) })
    await w.terminate()
    assert.deepEqual(got.one, one)
    assert.deepEqual(got.many, many)
    assert.ok(Buffer.compare(Buffer.from(got.snapshot), local.snapshot()) === 0)
  }
  assert.equal(local.ingest({ customer_id: 'c1', channel: 'web', kind: 'page_view', at: T0 + 99_000_000 }).isEmpty, true)
})
