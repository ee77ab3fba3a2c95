// ingestColumns: the same outcome and engine state as ingestMany on the same touchpoints.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { Engine, Model } = require('../index.js')

const T0 = Date.parse('2026-03-01T10:00:00Z')
const list = [
  { customer_id: 'c1', channel: 'web', kind: 'add_to_cart', at: T0, properties: { sku: 'A' } },
  { customer_id: 'c2', channel: 'web', kind: 'page_view', at: T0 + 1000 },
  { customer_id: 'c1', channel: 'web', kind: 'teleport', at: T0 + 2000 }, // rejected
  { customer_id: 'c1', channel: 'web', kind: 'purchase', at: T0 + 3000, value: 12.5, id: 'o1', properties: { sku: 'A', n: 2, gift: true } },
  { customer_id: 'c1', channel: 'web', kind: 'purchase', at: T0 + 3000, value: 12.5, id: 'o1' }, // duplicate id
  { customer_id: 'c3', channel: 'sms', kind: 'sms_click', at: T0 + 9 * 3600_000 },
]
const col = (k) => list.map((t) => t[k])
const prop = (k) => list.map((t) => t.properties?.[k])

test('ingestColumns equals ingestMany on the same rows', () => {
  const a = new Engine(Model.preset('ecommerce'))
  const b = new Engine(Model.preset('ecommerce'))
  const outA = a.ingestMany(list)
  const outB = b.ingestColumns({
    customer_id: col('customer_id'),
    channel: col('channel'),
    kind: col('kind'),
    at: Float64Array.from(col('at')),
    value: Float64Array.from(list.map((t) => t.value ?? NaN)),
    id: col('id'),
    properties: { sku: prop('sku'), n: prop('n'), gift: prop('gift') },
  })
  assert.deepEqual(outB.toJSON(), outA.toJSON())
  assert.deepEqual(outB.rejected.map((r) => [r.index, r.code]), [[2, 'unknown_event_kind']])
  assert.equal(outB.duplicates.length, 1)
  assert.deepEqual(b.snapshot().length, a.snapshot().length)
  for (const id of a.customerIds()) assert.deepEqual(b.customer(id), a.customer(id))
  // Times as text or Dates, values as plain arrays.
  const c = new Engine(Model.preset('ecommerce'))
  c.ingestColumns({
    customer_id: col('customer_id'),
    channel: col('channel'),
    kind: col('kind'),
    at: list.map((t, i) => (i % 2 ? new Date(t.at) : new Date(t.at).toISOString())),
    value: list.map((t) => t.value ?? null),
    id: col('id'),
    properties: { sku: prop('sku'), n: prop('n'), gift: prop('gift') },
  })
  for (const id of a.customerIds()) assert.deepEqual(c.customer(id), a.customer(id))
})

test('ingestColumns: coded errors', () => {
  const e = new Engine(Model.preset('ecommerce'))
  const base = { customer_id: ['c1'], channel: ['web'], kind: ['page_view'], at: [T0] }
  const code = (cols) => {
    try {
      e.ingestColumns(cols)
    } catch (err) {
      return [err.code, err.path]
    }
    return null
  }
  assert.deepEqual(code(null), ['wrong_type', 'columns'])
  assert.deepEqual(code({ ...base, channel: 'web' }), ['wrong_type', 'columns.channel'])
  assert.deepEqual(code({ ...base, channel: [{}] }), ['wrong_type', 'columns.channel[0]'])
  assert.deepEqual(code({ ...base, at: ['soon'] }), ['invalid_timestamp', 'columns.at[0]'])
  assert.deepEqual(code({ ...base, value: [NaN + 'x'] }), ['wrong_type', 'columns.value[0]'])
  assert.deepEqual(code({ ...base, value: [Infinity] }), ['invalid_value', 'columns.value[0]'])
  assert.deepEqual(code({ ...base, kind: ['page_view', 'page_view'] }), ['invalid_value', 'columns.kind'])
  assert.deepEqual(code({ ...base, properties: { p: [[1]] } }), ['wrong_type', 'columns.properties.p[0]'])
  assert.equal(e.size, 0, 'nothing applied')
  // Unknown fields are the core's per-row rejections.
  const out = e.ingestColumns({ ...base, colour: ['red'] })
  assert.deepEqual(out.rejected.map((r) => [r.index, r.code, r.path, r.line]), [[0, 'unknown_field', 'colour', null]])
  assert.equal(e.ingestColumns({}).rejected.length, 0)
})
