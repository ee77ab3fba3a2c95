// The Node API: models, ingest forms, time arguments, batches, async batches, consent, erasure,
// snapshots, errors and the error catalogue.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { Engine, Model, Outcome, errorCodes } = require('../index.js')

const T0 = '2026-03-01T10:00:00Z'
const ms = (s) => Date.parse(s)
const tp = (over = {}) => ({ customer_id: 'c1', channel: 'web', kind: 'add_to_cart', at: T0, ...over })

test('models: presets, JSON round trip, files, names, invalid models with problems', () => {
  assert.deepEqual(Model.presets().sort(), ['ecommerce', 'five_stage_loyalty', 'five_stage_retention', 'seven_phase'])
  const m = Model.preset('ecommerce')
  assert.equal(m.name, 'ecommerce')
  assert.equal(m.stages[0], 'visitor')
  assert.ok(m.channels.includes('sms'))
  assert.ok(m.eventKinds.includes('purchase'))
  assert.equal(m.identityKinds[0], 'customer_id')
  assert.ok(m.rules.length > 0)
  assert.ok(Array.isArray(m.warnings))
  const again = Model.fromJson(m.toJson())
  assert.deepEqual(again.stages, m.stages)
  const dir = mkdtempSync(join(tmpdir(), 'jornada-'))
  writeFileSync(join(dir, 'm.json'), m.toJson())
  assert.deepEqual(Model.fromFile(join(dir, 'm.json')).rules, m.rules)
  assert.throws(() => Model.fromFile(join(dir, 'missing.json')), { code: 'io_error' })
  assert.throws(() => Model.preset('nope'), { code: 'unknown_preset' })
  const bad = JSON.parse(m.toJson())
  bad.rules[0].to = 'nowhere'
  try {
    Model.fromJson(JSON.stringify(bad))
    assert.fail('an invalid model must throw')
  } catch (e) {
    assert.ok(e instanceof Error)
    assert.equal(e.code, 'invalid_model')
    assert.equal(e.path, 'rules[0].to')
    assert.ok(e.problems.some((p) => p.code === 'unknown_stage' && p.path === 'rules[0].to'))
  }
  assert.throws(() => Model.fromJson('{'), { code: 'invalid_model' })
})

test('the brief quickstart: abandoned cart with consent, customer view, stage counts', () => {
  const engine = new Engine(Model.preset('ecommerce'))
  const out = engine.ingest(tp())
  assert.ok(out instanceof Outcome)
  assert.deepEqual(out.transitions.map((t) => t.to), ['visitor', 'cart'])
  assert.equal(out.transitions, out.transitions, 'lists are converted once and kept')
  assert.deepEqual(out.actions, [])
  assert.equal(out.isEmpty, false)
  engine.setConsent('c1', 'sms', true, new Date('2026-03-01T09:00:00Z'))
  const later = engine.advanceTo(ms('2026-03-01T11:00:00Z'))
  assert.equal(later.transitions[0].to, 'abandoned_cart')
  assert.equal(later.actions[0].action, 'abandoned_cart_sms')
  assert.equal(later.actions[0].suppressed, false)
  const c1 = engine.customer('c1')
  assert.equal(c1.stage, 'abandoned_cart')
  assert.equal(c1.history.length, 3)
  assert.deepEqual(c1.keys, [['customer_id', 'c1']])
  assert.equal(engine.customer('nobody'), null)
  assert.equal(engine.stageCounts().abandoned_cart, 1)
  assert.deepEqual(Object.keys(engine.stageCounts()), Model.preset('ecommerce').stages)
  assert.equal(engine.size, 1)
  assert.equal(engine.now, '2026-03-01T11:00:00Z')
  assert.equal(engine.model.name, 'ecommerce')
  assert.deepEqual(JSON.parse(JSON.stringify(later)).transitions, later.transitions)
})

test('`at` as RFC 3339 text, epoch milliseconds and Date give the same result', () => {
  const results = [T0, ms(T0), new Date(T0)].map((at) => {
    const e = new Engine(Model.preset('ecommerce'))
    return e.ingest(tp({ at })).toJSON()
  })
  assert.deepEqual(results[1], results[0])
  assert.deepEqual(results[2], results[0])
  const e = new Engine(Model.preset('ecommerce'))
  for (const at of [T0, ms(T0), new Date(T0)]) e.advanceTo(at)
  assert.equal(e.now, T0)
  assert.throws(() => e.advanceTo('yesterday'), { code: 'invalid_timestamp', path: 'at' })
  assert.throws(() => e.advanceTo(1.5), { code: 'invalid_timestamp' })
  assert.throws(() => e.advanceTo(new Date('nope')), { code: 'invalid_timestamp' })
  assert.throws(() => e.advanceTo({}), { code: 'wrong_type' })
})

test('ingest errors carry code and path, and change nothing', () => {
  const e = new Engine(Model.preset('ecommerce'))
  const cases = [
    [tp({ kind: 'teleport' }), 'unknown_event_kind', 'kind'],
    [tp({ channel: 'fax' }), 'unknown_channel', 'channel'],
    [tp({ shoe_size: 44 }), 'unknown_field', 'shoe_size'],
    [tp({ at: 'soon' }), 'invalid_timestamp', 'at'],
    [tp({ customer_id: undefined }), 'missing_identity', ''],
    [{ customer_id: 'c1', kind: 'purchase', at: T0 }, 'missing_field', 'channel'],
    [tp({ value: 'ten' }), 'wrong_type', 'value'],
    [tp({ value: Infinity }), 'invalid_value', 'value'],
    [tp({ properties: { rating: 'five' } }), 'wrong_type', 'properties.rating'],
  ]
  for (const [input, code, path] of cases) {
    try {
      e.ingest(input)
      assert.fail(`${JSON.stringify(input)} must throw ${code}`)
    } catch (err) {
      assert.ok(err instanceof Error, 'an Error object')
      assert.equal(err.code, code, err.message)
      assert.equal(err.path ?? '', path, err.message)
    }
  }
  assert.equal(e.size, 0)
})

test('ingestMany: valid ones applied in one call, rejected ones by index with code and path', () => {
  const e = new Engine(Model.preset('ecommerce'))
  const out = e.ingestMany([
    tp({ customer_id: 'a' }),
    tp({ customer_id: 'b', kind: 'nope' }),
    'not an object',
    tp({ customer_id: 'c', at: NaN }),
    tp({ customer_id: 42, at: ms(T0), id: 'x1' }),
    tp({ customer_id: 'd', id: 'x1' }),
  ])
  assert.deepEqual(out.rejected.map((r) => [r.index, r.code, r.path, r.line]), [
    [1, 'unknown_event_kind', 'kind', null],
    [2, 'invalid_json', null, null],
    [3, 'invalid_timestamp', 'at', null],
  ])
  assert.deepEqual(out.duplicates, ['x1'])
  assert.deepEqual(e.customerIds(), ['42', 'a'])
  assert.throws(() => e.ingestMany('nope'), { code: 'wrong_type' })
  assert.deepEqual(e.ingestMany([]).toJSON().rejected, [])
})

test('ingestNdjson: Buffer or string; rejected lines with index and line', () => {
  const e = new Engine(Model.preset('ecommerce'))
  const lines = [JSON.stringify(tp({ customer_id: 'a' })), '', '{"customer_id": "b"}', JSON.stringify(tp({ customer_id: 'c' }))].join('\n')
  const out = e.ingestNdjson(Buffer.from(lines))
  assert.deepEqual(out.rejected.map((r) => [r.index, r.line, r.code]), [[1, 3, 'missing_field']])
  assert.deepEqual(e.customerIds(), ['a', 'c'])
  const f = new Engine(Model.preset('ecommerce'))
  assert.deepEqual(f.ingestNdjson(lines).toJSON(), out.toJSON())
  assert.deepEqual(new Engine(Model.preset('ecommerce')).ingestNdjson(new Uint8Array(Buffer.from(lines))).toJSON(), out.toJSON())
})

test('ingestManyAsync gives what ingestMany gives; the engine is busy until it settles', async () => {
  const list = []
  for (let i = 0; i < 20000; i++) list.push(tp({ customer_id: `c${i % 500}`, at: ms(T0) + i * 1000, kind: i % 7 ? 'product_view' : 'add_to_cart' }))
  list.push({ bad: true })
  const sync = new Engine(Model.preset('ecommerce'))
  const want = sync.ingestMany(list).toJSON()
  const e = new Engine(Model.preset('ecommerce'))
  const p = e.ingestManyAsync(list)
  assert.throws(() => e.ingest(tp()), { code: 'engine_busy' })
  assert.throws(() => e.stageCounts(), { code: 'engine_busy' })
  await assert.rejects(e.ingestManyAsync([tp()]), { code: 'engine_busy' })
  const out = await p
  assert.deepEqual(out.toJSON(), want)
  assert.deepEqual(e.stageCounts(), sync.stageCounts())
  await assert.rejects(e.ingestManyAsync('nope'), { code: 'wrong_type' })
  const nd = new Engine(Model.preset('ecommerce'))
  const text = list.map((x) => JSON.stringify(x)).join('\n')
  const viaNd = await nd.ingestNdjsonAsync(Buffer.from(text))
  assert.equal(viaNd.transitions.length, want.transitions.length)
  assert.deepEqual(nd.stageCounts(), sync.stageCounts())
})

test('consent, erase, identities and duplicates', () => {
  const e = new Engine(Model.preset('ecommerce'))
  e.ingest(tp({ email: 'ana@example.com', id: 'e1' }))
  assert.deepEqual(e.ingest(tp({ id: 'e1' })).duplicates, ['e1'])
  assert.equal(e.customer('email:ana@example.com').id, 'c1')
  const out = e.setConsent('c1', 'sms', true, T0)
  assert.ok(out instanceof Outcome)
  assert.equal(e.customer('c1').consent[0].granted, true)
  assert.throws(() => e.setConsent('c1', 'fax', true, T0), { code: 'unknown_channel' })
  assert.throws(() => e.setConsent('c1', 'sms', 'yes', T0), { code: 'wrong_type', path: 'granted' })
  assert.deepEqual(e.erase('c1'), { customer: 'c1', keys: 2, events: 1 })
  assert.equal(e.customer('c1'), null)
  assert.throws(() => e.erase('c1'), { code: 'unknown_customer' })
})

test('snapshots: Buffer out, restore in, same behaviour; damaged bytes are errors', () => {
  const e = new Engine(Model.preset('ecommerce'))
  e.ingest(tp())
  const snap = e.snapshot()
  assert.ok(Buffer.isBuffer(snap))
  const r = Engine.restore(snap)
  assert.deepEqual(r.customer('c1'), e.customer('c1'))
  assert.deepEqual(r.advanceTo('2026-03-02T00:00:00Z').toJSON(), e.advanceTo('2026-03-02T00:00:00Z').toJSON())
  assert.throws(() => Engine.restore(snap.subarray(0, snap.length - 3)), { code: 'corrupt_snapshot' })
  const flipped = Buffer.from(snap)
  flipped[flipped.length >> 1] ^= 0xff
  assert.throws(() => Engine.restore(flipped), { code: 'corrupt_snapshot' })
  assert.throws(() => Engine.restore(Buffer.alloc(0)), { code: 'corrupt_snapshot' })
  assert.throws(() => Engine.restore('snapshot'), { code: 'wrong_type' })
})

test('errorCodes lists every core code and the binding codes, each described', () => {
  const codes = errorCodes()
  const names = codes.map((c) => c.code)
  for (const c of ['invalid_model', 'unknown_preset', 'invalid_json', 'missing_field', 'unknown_field', 'wrong_type',
    'invalid_value', 'invalid_timestamp', 'invalid_duration', 'unknown_channel', 'unknown_event_kind',
    'unknown_identity_kind', 'missing_identity', 'late_event', 'unknown_customer', 'snapshot_version',
    'corrupt_snapshot', 'capacity_exceeded', 'io_error', 'engine_busy', 'internal_error']) {
    assert.ok(names.includes(c), c)
  }
  assert.equal(new Set(names).size, names.length)
  assert.ok(codes.every((c) => c.description.length > 0))
})
