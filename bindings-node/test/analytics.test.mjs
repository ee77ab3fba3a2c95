// Batch analytics: EventLog from NDJSON and columns, simulate, replay (checked against the
// Engine), funnel, transitions, paths, attribution, retention, effort, async variants and
// coded errors. Expected figures are computed by hand for a small log, or independently.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { Engine, EventLog, Model, Replay, simulate, simulateAsync, attributionFromPaths } = require('../index.js')

const H = 3_600_000
const D = 24 * H
const T0 = Date.parse('2026-03-02T00:00:00Z') // a Monday
const iso = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z')

// c1: email view -> web cart (1h) -> web purchase of 30 (2h)
// c2: email view, web view the next day
// c3: web view -> web cart (30 min), no purchase
const EVENTS = [
  { customer: 'c1', at: T0, channel: 'email', kind: 'page_view' },
  { customer: 'c1', at: T0 + H, channel: 'web', kind: 'add_to_cart', sku: 'A' },
  { customer: 'c1', at: T0 + 2 * H, channel: 'web', kind: 'purchase', value: 30 },
  { customer: 'c2', at: T0, channel: 'email', kind: 'page_view' },
  { customer: 'c2', at: T0 + D, channel: 'web', kind: 'page_view' },
  { customer: 'c3', at: T0 + 10 * 60_000, channel: 'web', kind: 'page_view' },
  { customer: 'c3', at: T0 + 40 * 60_000, channel: 'web', kind: 'add_to_cart', sku: 'B' },
]
// Shuffled, times as RFC 3339 text for half of them: the log sorts.
const ndjson = () =>
  [...EVENTS]
    .reverse()
    .map((e, i) => JSON.stringify({ ...e, at: i % 2 ? iso(e.at) : e.at }))
    .join('\n') + '\n'
const small = () => EventLog.fromNdjson(Buffer.from(ndjson()))

test('fromNdjson and fromColumns build the same sorted log', () => {
  const a = small()
  assert.equal(a.len, 7)
  assert.equal(a.nCustomers, 3)
  assert.deepEqual(a.customers, ['c1', 'c2', 'c3'])
  assert.deepEqual(a.channels, ['email', 'web'])
  assert.deepEqual(a.kinds, ['add_to_cart', 'page_view', 'purchase'])
  assert.deepEqual(a.properties, ['sku'])
  assert.ok(a.memoryBytes > 0)
  const rows = a.toRows()
  assert.deepEqual(
    rows.map((r) => [r.customer, r.at, r.kind]),
    EVENTS.map((e) => [e.customer, iso(e.at), e.kind]),
  )
  assert.equal(rows[2].value, 30)
  assert.equal(rows[0].value, null)
  assert.deepEqual(rows[1].properties, { sku: 'A' })
  assert.deepEqual(rows[0].properties, {})

  const rev = [...EVENTS].reverse()
  const b = EventLog.fromColumns({
    customer: rev.map((e) => e.customer),
    at: Float64Array.from(rev.map((e) => e.at)),
    channel: rev.map((e) => e.channel),
    kind: rev.map((e) => e.kind),
    value: rev.map((e) => e.value ?? null),
    properties: { sku: rev.map((e) => e.sku ?? null) },
  })
  assert.deepEqual(b.toRows(), rows)
  // Times as text and Dates too; a string log from a string.
  const c = EventLog.fromColumns({
    customer: rev.map((e) => e.customer),
    at: rev.map((e, i) => (i % 2 ? iso(e.at) : new Date(e.at))),
    channel: rev.map((e) => e.channel),
    kind: rev.map((e) => e.kind),
    value: Float64Array.from(rev.map((e) => e.value ?? NaN)),
    properties: { sku: rev.map((e) => e.sku) },
  })
  assert.deepEqual(c.toRows(), rows)
  assert.deepEqual(EventLog.fromNdjson(ndjson()).toRows(), rows)
})

test('fromNdjson: field names, canonical touchpoints, property lists', () => {
  const text = [
    '{"customer_id":"u1","ts":"2026-03-02T00:00:00Z","channel":"web","kind":"view","properties":{"sku":"A","n":2}}',
    '',
    '{"customer_id":7,"ts":1772409600000,"channel":"app","kind":"buy","value":5,"coupon":true}',
  ].join('\r\n')
  const log = EventLog.fromNdjson(text, { customer: 'customer_id', at: 'ts' })
  assert.deepEqual(log.customers, ['7', 'u1'])
  assert.deepEqual(log.properties.sort(), ['coupon', 'n', 'sku'])
  const rows = log.toRows()
  assert.deepEqual(rows[0].properties, { coupon: true })
  assert.equal(rows[0].value, 5)
  assert.deepEqual(rows[1].properties, { sku: 'A', n: 2 })
  const only = EventLog.fromNdjson(text, { customer: 'customer_id', at: 'ts', properties: ['sku'], value: null })
  assert.deepEqual(only.properties, ['sku'])
  assert.equal(only.toRows()[0].value, null)
  assert.deepEqual(EventLog.fromNdjson(text, { customer: 'customer_id', at: 'ts', properties: null }).properties, [])
  assert.equal(EventLog.fromNdjson('').len, 0)
})

test('funnel: counts, conversion rates, drop-off and times by hand', () => {
  const f = small().funnel(['page_view', 'add_to_cart', 'purchase'], { window: '1d' })
  assert.deepEqual(
    f.map((s) => [s.step, s.customers, s.drop_off]),
    [
      ['page_view', 3, 0],
      ['add_to_cart', 2, 1],
      ['purchase', 1, 1],
    ],
  )
  assert.deepEqual(f.map((s) => s.conversion_from_first), [1, 2 / 3, 1 / 3])
  assert.deepEqual(f.map((s) => s.conversion_from_previous), [1, 2 / 3, 1 / 2])
  assert.equal(f[0].median_from_previous_ms, null)
  assert.equal(f[2].median_from_previous_ms, H) // c1: cart at 1h, purchase at 2h
  assert.equal(f[2].p90_from_previous_ms, H)
  // A 20-minute window: c1's cart (1h after the view) is too late, c3's (30 min) too.
  const tight = small().funnel(['page_view', 'add_to_cart'], { window: '20m' })
  assert.equal(tight[1].customers, 0)
  for (const mode of ['window_funnel', 'strict_order', 'strict_order_steps', 'any']) {
    assert.equal(small().funnel(['page_view', 'add_to_cart'], { mode }).length, 2)
  }
})

test('transitions and paths by hand', () => {
  const edges = small().transitions()
  const byPair = Object.fromEntries(edges.map((e) => [`${e.from}>${e.to}`, e]))
  assert.deepEqual(Object.keys(byPair).sort(), ['add_to_cart>purchase', 'page_view>add_to_cart', 'page_view>page_view'])
  assert.equal(byPair['page_view>add_to_cart'].count, 2)
  assert.equal(byPair['page_view>add_to_cart'].probability, 2 / 3)
  assert.equal(byPair['page_view>page_view'].probability, 1 / 3)
  assert.equal(byPair['add_to_cart>purchase'].probability, 1)
  assert.equal(byPair['add_to_cart>purchase'].median_ms, H)
  assert.equal(byPair['page_view>page_view'].median_ms, D)
  const ch = small().transitions({ by: 'channel' })
  assert.deepEqual(ch.map((e) => `${e.from}>${e.to}:${e.count}`).sort(), ['email>web:2', 'web>web:2'])

  const paths = small().paths({ top: 10 })
  assert.deepEqual(
    paths.map((p) => p.path).sort(),
    ['page_view > add_to_cart', 'page_view > add_to_cart > purchase', 'page_view > page_view'],
  )
  assert.ok(paths.every((p) => p.customers === 1 && p.share === 1 / 3))
  const collapsed = small().paths({ collapseRepeats: true, maxSteps: 2 })
  assert.ok(collapsed.some((p) => p.path === 'page_view'))
  assert.ok(collapsed.every((p) => p.path.split(' > ').length <= 2))
  assert.equal(small().paths({ top: 1 }).length, 1)
})

test('attribution by hand, from a log and from paths', () => {
  const a = small().attribution({ conversion: 'purchase', models: ['first_touch', 'last_touch', 'linear'] })
  const get = (model, channel) => a.find((r) => r.model === model && r.channel === channel)
  assert.equal(get('first_touch', 'email').conversions, 1)
  assert.equal(get('first_touch', 'email').value, 30)
  assert.equal(get('first_touch', 'web').conversions, 0)
  assert.equal(get('last_touch', 'web').conversions, 1)
  assert.equal(get('last_touch', 'email').conversions, 0)
  const linear = a.filter((r) => r.model === 'linear')
  assert.ok(Math.abs(linear.reduce((s, r) => s + r.conversions, 0) - 1) < 1e-12)
  assert.ok(get('linear', 'email').conversions > 0 && get('linear', 'web').conversions > 0)
  // Default models: every one, including markov and shapley.
  const models = new Set(small().attribution({ conversion: 'purchase' }).map((r) => r.model))
  assert.ok(models.has('markov') && models.has('shapley') && models.has('first_touch'))
  // A 30-minute lookback keeps only the touches after 1h30: none before the purchase but the cart? no: 2h - 30m = 1h30.
  const short = small().attribution({ conversion: 'purchase', lookback: '30m', models: ['first_touch'] })
  assert.equal(short.find((r) => r.channel === 'email')?.conversions ?? 0, 0)

  const p = attributionFromPaths(
    { path: ['a>b', 'b'], conversions: [1, 2], value: Float64Array.of(10, 20) },
    { models: ['first_touch', 'last_touch', 'linear'] },
  )
  const pg = (model, channel) => p.find((r) => r.model === model && r.channel === channel)
  assert.deepEqual([pg('first_touch', 'a').conversions, pg('first_touch', 'b').conversions], [1, 2])
  assert.deepEqual([pg('last_touch', 'a').conversions, pg('last_touch', 'b').conversions], [0, 3])
  assert.deepEqual([pg('linear', 'a').conversions, pg('linear', 'b').conversions], [0.5, 2.5])
  assert.deepEqual([pg('linear', 'a').value, pg('linear', 'b').value], [5, 25])
  const sep = attributionFromPaths({ path: ['a | b'], conversions: [1] }, { sep: '|', models: ['linear'] })
  assert.deepEqual(sep.map((r) => r.conversions), [0.5, 0.5])
})

test('retention and effort by hand', () => {
  const r = small().retention({ period: 'day' })
  assert.equal(r[0].cohort, '2026-03-02T00:00:00Z')
  assert.deepEqual(
    r.slice(0, 2).map((x) => [x.customers, x.offset, x.active, x.share]),
    [
      [3, 0, 3, 1],
      [3, 1, 1, 1 / 3],
    ],
  )
  assert.equal(small().retention({ period: 'day', periods: 1 }).length, 1)
  const w = small().retention()
  assert.equal(w[0].cohort, '2026-03-02T00:00:00Z') // ISO week starts on that Monday
  assert.equal(w[0].active, 3)

  const e = Object.fromEntries(small().effort({ support: null }).map((x) => [x.customer, x]))
  assert.deepEqual(
    ['c1', 'c2', 'c3'].map((c) => [e[c].events, e[c].channels, e[c].channel_switches, e[c].carts]),
    [
      [3, 2, 1, 1],
      [2, 2, 1, 0],
      [2, 1, 0, 1],
    ],
  )
  assert.equal(e.c2.touches_to_conversion, null)
  assert.equal(e.c2.time_to_conversion_ms, null)
  assert.equal(e.c1.time_to_conversion_ms, 2 * H)
  assert.equal(e.c1.support_contacts, 0)
  const none = small().effort({ conversion: null, cart: null, support: null })
  assert.ok(none.every((x) => x.touches_to_conversion === null && x.carts === 0))
})

test('replay agrees with the Engine fed the same events; simulate is seeded', async () => {
  const model = Model.preset('ecommerce')
  const log = simulate(model, { customers: 300, seed: 7, days: 30 })
  assert.equal(log.nCustomers, 300)
  assert.deepEqual(simulate(model, { customers: 300, seed: 7, days: 30 }).toRows(), log.toRows())
  assert.notDeepEqual(simulate(model, { customers: 300, seed: 8, days: 30 }).toRows().slice(0, 50), log.toRows().slice(0, 50))

  const rows = log.toRows()
  const replay = log.replay(model)
  assert.ok(replay instanceof Replay)
  assert.equal(replay.len, 300)
  assert.equal(replay.stats.events, rows.length)

  // The engine, event by event in time order, then moved to the last event's time.
  const engine = new Engine(model)
  const byTime = rows
    .map((r, i) => ({ r, i }))
    .sort((x, y) => Date.parse(x.r.at) - Date.parse(y.r.at) || x.i - y.i)
    .map(({ r }) => ({
      customer_id: r.customer,
      channel: r.channel,
      kind: r.kind,
      at: r.at,
      ...(r.value === null ? {} : { value: r.value }),
      properties: r.properties,
    }))
  const out = engine.ingestMany(byTime)
  assert.deepEqual(out.rejected, [])
  engine.advanceTo(byTime.at(-1).at)
  const finals = Object.fromEntries(replay.customers.map((c) => [c.customer, c.stage]))
  for (const id of engine.customerIds()) assert.equal(finals[id], engine.customer(id).stage, id)
  // Every replayed transition is in the engine's history, in order.
  const perCustomer = {}
  for (const t of replay.transitions) (perCustomer[t.customer] ??= []).push([t.to_stage, t.at])
  for (const [id, list] of Object.entries(perCustomer)) {
    assert.deepEqual(engine.customer(id).history.map((h) => [h.stage, h.entered_at]), list, id)
  }
  assert.ok(replay.actions.length > 0)
  assert.ok(replay.actions.every((a) => typeof a.suppressed === 'boolean'))
  const counts = replay.customers.reduce((m, c) => ((m[c.stage] = (m[c.stage] ?? 0) + 1), m), {})
  for (const [stage, n] of Object.entries(engine.stageCounts())) assert.equal(counts[stage] ?? 0, n, stage)

  // Time in stage: completed + open stays = entries into the stage.
  const tis = log.timeInStage(model)
  assert.deepEqual(tis, replay.timeInStage())
  for (const s of tis) {
    const entries = replay.transitions.filter((t) => t.to_stage === s.stage).length
    assert.equal(s.completed + s.open, entries, s.stage)
  }

  // Async variants give the same results.
  const again = await log.replayAsync(model)
  assert.deepEqual(again.customers, replay.customers)
  assert.deepEqual(
    await log.attributionAsync({ conversion: 'purchase' }),
    log.attribution({ conversion: 'purchase' }),
  )
  const sim = await simulateAsync(model, { customers: 300, seed: 7, days: 30 })
  assert.deepEqual(sim.toRows(), rows)
  // until: a replay up to the first day leaves the later rows out.
  const until = log.replay(model, { until: Date.parse(rows[0].at) })
  assert.ok(until.stats.after_until > 0)
})

test('unknown kinds: an error with its code, or skipped', () => {
  const text = ndjson() + JSON.stringify({ customer: 'c9', at: T0, channel: 'web', kind: 'teleport' }) + '\n'
  const log = EventLog.fromNdjson(text)
  const model = Model.preset('ecommerce')
  assert.throws(() => log.replay(model), { code: 'unknown_event_kind' })
  const skipped = log.replay(model, { skipUnknown: true })
  assert.equal(skipped.stats.skipped_unknown_kind, 1)
  assert.equal(skipped.stats.events, 7)
})

const code = (f) => {
  try {
    f()
  } catch (e) {
    assert.ok(e instanceof Error, 'an Error')
    return [e.code, e.path, e.line, e.index]
  }
  assert.fail('did not throw')
}

test('bad input: coded errors naming where', async () => {
  const ok = '{"customer":"c","at":0,"channel":"w","kind":"k"}\n'
  assert.deepEqual(code(() => EventLog.fromNdjson(`${ok}\n{"customer":"c","at":"x","channel":"w","kind":"k"}`)), [
    'invalid_timestamp', 'at', 3, 1,
  ])
  assert.deepEqual(code(() => EventLog.fromNdjson(`${ok}{`)), ['invalid_json', '', 2, 1])
  assert.deepEqual(code(() => EventLog.fromNdjson(`${ok}[]`)), ['wrong_type', '', 2, 1])
  // A kind the log does not have is the core's error.
  assert.equal(code(() => small().effort())[0], 'unknown_event_kind')
  assert.deepEqual(code(() => EventLog.fromNdjson(`${ok}{"customer":"c","at":0,"channel":"w","kind":"k","value":"9"}`)), [
    'wrong_type', 'value', 2, 1,
  ])
  assert.equal(code(() => EventLog.fromNdjson(42))[0], 'wrong_type')
  assert.deepEqual(code(() => EventLog.fromNdjson(ok, { at: 5 })).slice(0, 2), ['wrong_type', 'names.at'])
  assert.deepEqual(code(() => EventLog.fromNdjson(ok, 'x')).slice(0, 2), ['wrong_type', 'names'])

  const cols = { customer: ['a', 'b'], at: [0, 1], channel: ['w', 'w'], kind: ['k', 'k'] }
  assert.equal(EventLog.fromColumns(cols).len, 2)
  assert.deepEqual(code(() => EventLog.fromColumns({ ...cols, kind: undefined })).slice(0, 2), ['missing_field', 'columns.kind'])
  assert.deepEqual(code(() => EventLog.fromColumns({ ...cols, customer: ['a', 1] })).slice(0, 2), ['wrong_type', 'columns.customer[1]'])
  assert.deepEqual(code(() => EventLog.fromColumns({ ...cols, at: [0, 'soon'] })).slice(0, 2), ['invalid_timestamp', 'columns.at[1]'])
  assert.deepEqual(code(() => EventLog.fromColumns({ ...cols, at: Float64Array.of(0, NaN) })).slice(0, 2), ['invalid_timestamp', 'columns.at'])
  assert.equal(code(() => EventLog.fromColumns({ ...cols, channel: ['w'] }))[0], 'invalid_value')
  assert.deepEqual(code(() => EventLog.fromColumns({ ...cols, value: Int32Array.of(1, 2) })).slice(0, 2), ['wrong_type', 'columns.value'])
  assert.deepEqual(code(() => EventLog.fromColumns({ ...cols, properties: { p: ['x', 2] } })).slice(0, 2), ['wrong_type', 'properties.p[1]'.replace(/^/, 'columns.')])
  assert.deepEqual(code(() => EventLog.fromColumns({ ...cols, properties: { p: [{}, 2] } })).slice(0, 2), ['wrong_type', 'columns.properties.p[0]'])
  assert.equal(code(() => EventLog.fromColumns(null))[0], 'wrong_type')
  assert.equal(code(() => EventLog.fromColumns([]))[0], 'wrong_type')

  const log = small()
  assert.deepEqual(code(() => log.funnel(['page_view'], { window: 'soon' })).slice(0, 2), ['invalid_duration', 'options.window'])
  assert.deepEqual(code(() => log.funnel(['page_view'], { mode: 'sideways' })).slice(0, 2), ['invalid_value', 'options.mode'])
  assert.deepEqual(code(() => log.funnel('page_view')).slice(0, 2), ['wrong_type', 'steps'])
  assert.deepEqual(code(() => log.funnel([1])).slice(0, 2), ['wrong_type', 'steps[0]'])
  assert.deepEqual(code(() => log.transitions({ by: 'mood' })).slice(0, 2), ['invalid_value', 'options.by'])
  assert.deepEqual(code(() => log.paths({ top: -1 })).slice(0, 2), ['invalid_value', 'options.top'])
  assert.deepEqual(code(() => log.paths({ top: 1.5 })).slice(0, 2), ['invalid_value', 'options.top'])
  assert.deepEqual(code(() => log.retention({ period: 'year' })).slice(0, 2), ['invalid_value', 'options.period'])
  assert.deepEqual(code(() => log.attribution({})).slice(0, 2), ['missing_field', 'options.conversion'])
  assert.equal(code(() => log.attribution())[0], 'wrong_type')
  assert.equal(code(() => log.attribution({ conversion: 'purchase', models: ['astrology'] }))[0], 'invalid_value')
  assert.deepEqual(code(() => log.attribution({ conversion: 'purchase', lookback: 3 })).slice(0, 2), ['wrong_type', 'options.lookback'])
  assert.equal(code(() => log.replay({}))[0], 'wrong_type')
  assert.equal(code(() => log.replay(Model.preset('ecommerce'), { until: 'then' }))[0], 'invalid_timestamp')
  assert.equal(code(() => simulate('ecommerce'))[0], 'wrong_type')
  assert.deepEqual(code(() => simulate(Model.preset('ecommerce'), { customers: -5 })).slice(0, 2), ['invalid_value', 'options.customers'])
  assert.deepEqual(code(() => attributionFromPaths({ path: ['a'] })).slice(0, 2), ['missing_field', 'data.conversions'])
  assert.equal(code(() => attributionFromPaths({ path: ['a', 'b'], conversions: [1] }))[0], 'invalid_value')
  // Throwing getters are errors, not crashes.
  const trap = new Proxy({}, { get() { throw new Error('boom') } })
  assert.equal(code(() => log.funnel(['page_view'], trap))[0], 'invalid_value')
  assert.equal(code(() => EventLog.fromColumns(trap))[0], 'invalid_value')
  // Async calls reject with the same coded errors.
  await assert.rejects(async () => log.attributionAsync({ conversion: 'purchase', lookback: 'x' }), { code: 'invalid_duration' })
  await assert.rejects(async () => log.replayAsync(null), { code: 'wrong_type' })
  await assert.rejects(async () => simulateAsync(Model.preset('ecommerce'), { seed: 'x' }), { code: 'wrong_type' })
})
