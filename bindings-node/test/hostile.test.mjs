// Hostile input: nothing may crash the process or throw anything but an Error with a string code.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { Engine, Model, Outcome } = require('../index.js')

const T0 = '2026-03-01T10:00:00Z'
const tp = (over = {}) => ({ customer_id: 'c1', channel: 'web', kind: 'add_to_cart', at: T0, ...over })

/** Calls `f`; it may succeed or throw, but a throw must be an Error with a string `code`. */
function safely (f) {
  try {
    return { ok: f() }
  } catch (e) {
    assert.ok(e instanceof Error, `threw a non-Error: ${String(e)}`)
    assert.equal(typeof e.code, 'string', `an Error without a code: ${e.message}`)
    return { err: e }
  }
}

const cyclic = { a: 1 }
cyclic.self = cyclic
let deep = {}
for (let i = 0; i < 100000; i++) deep = { d: deep }
const throwingGetter = Object.defineProperty(tp(), 'channel', { enumerable: true, get () { throw new Error('boom') } })
const throwingProxy = new Proxy(tp(), { ownKeys () { throw new Error('no keys') } })
const getProxy = new Proxy(tp(), { get () { throw new Error('no get') } })
const nullProto = Object.assign(Object.create(null), tp())
const huge = 'x'.repeat(20 * 1024 * 1024)

const values = [
  undefined, null, true, 0, -0, 1.5, NaN, Infinity, -Infinity, 2 ** 53 + 2, -(2 ** 60), 10n, 2n ** 70n,
  '', 'x', huge, '\u0000\ud800', Symbol('s'), () => 1, [], [1, [2]], {}, cyclic, deep, new Date('nope'),
  new Date(8.64e15), Buffer.from('hi'), new Float64Array(3), new ArrayBuffer(8), new Map([[1, 2]]),
  Promise.resolve(), /re/, new Error('e'), throwingGetter, throwingProxy, getProxy, nullProto,
]

test('touchpoint fields of every type: ingest throws coded Errors or succeeds, never crashes', () => {
  const e = new Engine(Model.preset('ecommerce'))
  const fields = ['id', 'customer_id', 'email', 'channel', 'kind', 'at', 'value', 'properties', 'unknown']
  let threw = 0
  for (const field of fields) {
    for (const v of values) {
      const r = safely(() => e.ingest(tp({ [field]: v })))
      if (r.err) threw++
      safely(() => e.ingest(tp({ properties: { [field]: v } })))
    }
  }
  assert.ok(threw > 100)
  for (const v of values) {
    const r = safely(() => e.ingest(v))
    if (v !== nullProto) assert.ok(r.err, 'a non-touchpoint is an error')
  }
  // Still a working engine.
  assert.equal(e.ingest(tp({ customer_id: 'after' })).transitions.length, 2)
})

test('specific hostile touchpoints give the right codes', () => {
  const e = new Engine(Model.preset('ecommerce'))
  const code = (v) => safely(() => e.ingest(v)).err?.code
  assert.equal(code(tp({ at: NaN })), 'invalid_timestamp')
  assert.equal(code(tp({ at: Infinity })), 'invalid_timestamp')
  assert.equal(code(tp({ at: new Date('nope') })), 'invalid_timestamp')
  assert.equal(code(tp({ value: NaN })), 'invalid_value')
  assert.equal(code(tp({ properties: { x: -Infinity } })), 'invalid_value')
  assert.equal(code(tp({ customer_id: huge })), 'invalid_value')
  assert.equal(code(tp({ properties: { note: huge } })), 'invalid_value')
  assert.equal(code(tp({ properties: deep })), 'wrong_type')
  assert.equal(code(tp({ properties: cyclic })), 'wrong_type')
  assert.equal(code(tp({ channel: Symbol('web') })), 'wrong_type')
  assert.equal(code(tp({ kind: () => 'purchase' })), 'wrong_type')
  assert.equal(code(tp({ customer_id: 2n ** 70n })), 'invalid_value')
  assert.equal(code(throwingGetter), 'invalid_value')
  assert.match(safely(() => e.ingest(throwingGetter)).err.message, /boom/)
  assert.equal(code(throwingProxy), 'invalid_value')
  assert.equal(code(null), 'invalid_json')
  assert.equal(code(undefined), 'invalid_json')
  assert.equal(code('{"customer_id":"c1"}'), 'invalid_json')
  assert.equal(code([]), 'invalid_json')
  // Accepted: BigInt and integer keys, null-prototype objects, a Date.
  assert.equal(code(tp({ customer_id: 7n })), undefined)
  assert.equal(code(nullProto), undefined)
  assert.equal(code(tp({ customer_id: 'd', at: new Date(T0) })), undefined)
})

test('batches of hostile elements: each rejected at its index, the rest applied', async () => {
  const e = new Engine(Model.preset('ecommerce'))
  const list = values.map((v, i) => (i % 2 ? v : tp({ customer_id: `k${i}`, properties: { v } })))
  list.push(tp({ customer_id: 'last' }))
  const sparse = [tp({ customer_id: 's1' }), , tp({ customer_id: 's2' })] // eslint-disable-line no-sparse-arrays
  const withGetter = [tp({ customer_id: 'g0' })]
  Object.defineProperty(withGetter, 1, { enumerable: true, get () { throw new Error('index getter') } })
  for (const batch of [list, sparse, withGetter]) {
    const r = safely(() => e.ingestMany(batch))
    assert.ok(r.ok instanceof Outcome)
    for (const rej of r.ok.rejected) {
      assert.equal(typeof rej.code, 'string')
      assert.ok(rej.index >= 0 && rej.index < batch.length)
    }
  }
  assert.ok(e.customer('last'))
  assert.ok(e.customer('s2'))
  assert.ok(e.customer('g0'))
  const out = await e.ingestManyAsync(list)
  assert.ok(out.rejected.length > 0)
  for (const v of values) {
    if (!Array.isArray(v)) await assert.rejects(e.ingestManyAsync(v), (err) => err instanceof Error && typeof err.code === 'string')
  }
})

test('every method with wrong arguments throws coded Errors', () => {
  const e = new Engine(Model.preset('ecommerce'))
  e.ingest(tp())
  const few = [undefined, null, 1, NaN, 'x', {}, [], Symbol('s'), () => 1, 10n, huge, new Date('nope')]
  for (const a of few) {
    for (const b of few.slice(0, 6)) safely(() => e.setConsent(a, b, a, b))
    {
      safely(() => e.advanceTo(a))
      safely(() => e.setConsent(a, 'sms', true, T0))
      safely(() => e.setConsent('c1', a, true, T0))
      safely(() => e.setConsent('c1', 'sms', a, T0))
      safely(() => e.setConsent('c1', 'sms', true, a))
      safely(() => e.erase(a))
      safely(() => e.customer(a))
      safely(() => e.ingestMany(a))
      safely(() => e.ingestNdjson(a))
      safely(() => Engine.restore(a))
      safely(() => Model.preset(a))
      safely(() => Model.fromJson(a))
      safely(() => Model.fromFile(a))
      safely(() => new Engine(a))
    }
  }
  assert.equal(e.customer('c1').stage, 'cart')
  assert.throws(() => new Engine({}), { code: 'wrong_type', path: 'model' })
  assert.throws(() => Model.preset(5), { code: 'wrong_type', path: 'name' })
})

test('hostile NDJSON and snapshot bytes', () => {
  const e = new Engine(Model.preset('ecommerce'))
  const junk = [
    Buffer.from([0xff, 0xfe, 0x00, 0x0a, 0x7b]), Buffer.from('{'.repeat(100000)), Buffer.from('[' + '1,'.repeat(1000) + ']\n{}'),
    Buffer.from('\n\n\r\n'), Buffer.from(huge), Buffer.from('{"customer_id":"c1","channel":"web","kind":"add_to_cart","at":1e400}'),
  ]
  for (const b of junk) {
    const r = safely(() => e.ingestNdjson(b))
    assert.ok(r.ok instanceof Outcome)
  }
  e.ingest(tp())
  const snap = e.snapshot()
  for (let cut = 0; cut < snap.length; cut += Math.max(1, snap.length >> 6)) {
    assert.ok(safely(() => Engine.restore(snap.subarray(0, cut))).err)
  }
  for (let i = 0; i < 200; i++) {
    const b = Buffer.from(snap)
    b[(i * 7919) % b.length] ^= 1 + (i % 255)
    safely(() => Engine.restore(b))
  }
  const random = Buffer.alloc(4096)
  for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24
  assert.ok(safely(() => Engine.restore(random)).err)
  assert.ok(safely(() => Engine.restore(new Uint16Array(8))).err)
})

test('random touchpoints (seeded) never crash', () => {
  let seed = 12345
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32)
  const pick = (a) => a[Math.floor(rnd() * a.length)]
  const keys = ['id', 'customer_id', 'email', 'cookie', 'device', 'channel', 'kind', 'at', 'value', 'properties', 'zz']
  const e = new Engine(Model.preset('ecommerce'))
  const scalars = [undefined, null, true, 3, -1, 1.25, NaN, 'web', 'sms', 'purchase', 'add_to_cart', T0, 1767261600000, '', {}, [], 5n]
  for (let i = 0; i < 3000; i++) {
    const o = {}
    const n = Math.floor(rnd() * 8)
    for (let k = 0; k < n; k++) o[pick(keys)] = rnd() < 0.1 ? { [pick(keys)]: pick(scalars) } : pick(scalars)
    safely(() => e.ingest(o))
  }
  assert.ok(e.snapshot().length > 0)
})
