// engine.score: the core's journey score, checked by hand on the ecommerce preset with a scoring
// table (the same case the browser binding's tests use).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { Engine, Model } = require('../index.js')

const T0 = '2026-03-01T10:00:00Z'
const scoring = { target: 'customer', stages: { browsing: { p_convert: 0.08, expected_time: '3d' }, cart: { p_convert: 0.35, expected_time: '2h' } } }
const model = Model.fromJson(JSON.stringify({ ...JSON.parse(Model.preset('ecommerce').toJson()), scoring }))

test('score by hand: stage, progress, scoring table, next actions, effort', () => {
  const engine = new Engine(model)
  assert.equal(engine.score('nobody'), null)
  engine.ingest({ customer_id: 'c1', channel: 'web', kind: 'product_view', at: T0, properties: { sku: 'A1' } })
  let s = engine.score('c1')
  assert.equal(s.stage, 'browsing')
  assert.equal(s.stage_index, 1)
  assert.equal(s.entered_at, T0)
  assert.equal(s.progress, 0.2) // stage 1 of the way to `customer` (index 5)
  assert.equal(s.probability_to_convert, 0.08)
  assert.equal(s.expected_time_to_convert, '3d')
  assert.deepEqual(s.next_actions.map((n) => n.rule), ['first_purchase', 'cart_filled', 'became_interested'])
  assert.deepEqual(s.effort, { touches: 1, channels: 1, channel_switches: 0, elapsed: '0' })

  engine.ingest({ customer_id: 'c1', channel: 'app', kind: 'add_to_cart', at: Date.parse(T0) + 60_000 })
  s = engine.score('c1')
  assert.equal(s.stage, 'cart')
  assert.equal(s.next_actions[0].trigger, 'timeout')
  assert.equal(s.next_actions[0].due, '2026-03-01T11:01:00Z') // the 1h abandoned-cart timeout
  assert.equal(s.effort.channel_switches, 1)
  assert.equal(s.effort.elapsed, '1m')
  assert.deepEqual(Engine.restore(engine.snapshot()).score('c1'), s)
})

test('score without a scoring table has no probability; bad ids are coded errors', () => {
  const engine = new Engine(Model.preset('ecommerce'))
  engine.ingest({ customer_id: 'c1', channel: 'web', kind: 'search', at: T0 })
  const s = engine.score('c1')
  assert.equal(s.probability_to_convert, null)
  assert.equal(s.expected_time_to_convert, null)
  assert.throws(() => engine.score(42), (e) => e.code === 'wrong_type')
})
