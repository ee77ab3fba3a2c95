// Type-checked (not run) by `tsc -p test/types`: the declarations in index.d.ts must describe
// the API as the README uses it; the @ts-expect-error lines must fail to type-check.
import {
  Engine, Model, Outcome, errorCodes, EventLog, Replay, simulate, simulateAsync, attributionFromPaths,
  type FunnelRow, type AttributionRow,
  type Action, type CustomerView, type Rejected, type Touchpoint, type Transition, type Timestamp,
} from '../../index.js'

const model: Model = Model.preset('ecommerce')
const fromJson: Model = Model.fromJson(model.toJson())
const stages: string[] = fromJson.stages
const engine = new Engine(model)
const tp: Touchpoint = { customer_id: 'c1', channel: 'sms', kind: 'sms_click', at: '2026-03-01T10:00:00Z' }
const out: Outcome = engine.ingest(tp)
const transitions: Transition[] = out.transitions
const actions: Action[] = out.actions
const suppressed: boolean = actions.every((a) => a.suppressed)
const from: string | null = transitions[0].from
const rejected: Rejected[] = engine.ingestMany([tp, { ...tp, email: 'a@b.c', properties: { sku: 'A1', qty: 2 } }]).rejected
const line: number | null = rejected[0]?.line ?? null
const nd: Outcome = engine.ingestNdjson(Buffer.from(JSON.stringify(tp)))
const later: Promise<Outcome> = engine.ingestManyAsync([tp])
const later2: Promise<Outcome> = engine.ingestNdjsonAsync('')
const times: Timestamp[] = ['2026-03-01T10:00:00Z', Date.now(), new Date()]
engine.advanceTo(Date.now())
const stage: string | null | undefined = engine.customer('c1')?.stage
const view: CustomerView | null = engine.customer('c1')
const counts: Record<string, number> = engine.stageCounts()
const snap: Buffer = engine.snapshot()
const again: Engine = Engine.restore(snap)
engine.setConsent('c1', 'sms', true, new Date())
const erased: { customer: string, keys: number, events: number } = engine.erase('c1')
const codes: string[] = errorCodes().map((c) => c.code)

// @ts-expect-error a touchpoint needs `kind`
engine.ingest({ customer_id: 'c1', channel: 'web', at: 1 })
// @ts-expect-error `at` is a Timestamp
engine.advanceTo(true)
// @ts-expect-error snapshots are bytes
Engine.restore('snapshot')
// @ts-expect-error `stage` is a string or null
const n: number = view!.stage

// Batch analytics.
const log: EventLog = EventLog.fromNdjson(Buffer.from(''), { customer: 'customer_id', value: null })
const log2: EventLog = EventLog.fromColumns({ customer: ['c1'], at: Float64Array.of(0), channel: ['web'], kind: ['view'] })
const sim: EventLog = simulate(Model.preset('ecommerce'), { customers: 10, seed: 1 })
const simP: Promise<EventLog> = simulateAsync(Model.preset('ecommerce'))
const events: number = log.len + log2.nCustomers
const replay: Replay = sim.replay(Model.preset('ecommerce'), { skipUnknown: true })
const replayP: Promise<Replay> = sim.replayAsync(Model.preset('ecommerce'))
const toStage: string = replay.transitions[0].to_stage
const fromStage: string | null = replay.transitions[0].from_stage
const funnelRows: FunnelRow[] = sim.funnel(['page_view', 'purchase'], { window: '1d', mode: 'strict_order' })
const credit: AttributionRow[] = sim.attribution({ conversion: 'purchase', lookback: null })
const creditP: Promise<AttributionRow[]> = sim.attributionAsync({ conversion: 'purchase' })
const pathShare: number = sim.paths({ top: 3 })[0].share
const cohort: string = sim.retention({ period: 'month' })[0].cohort
const ttc: number | null = sim.effort({ support: null })[0].time_to_conversion_ms
const fromPaths: AttributionRow[] = attributionFromPaths({ path: ['a>b'], conversions: [1] }, { models: ['linear'] })
const colOut: Outcome = engine.ingestColumns({ customer_id: ['c1'], channel: ['web'], kind: ['page_view'], at: Float64Array.of(1) })
// @ts-expect-error attribution needs `conversion`
sim.attribution({ lookback: '7d' })
// @ts-expect-error funnel modes are named
sim.funnel(['a'], { mode: 'sideways' })

export { events, toStage, fromStage, funnelRows, credit, creditP, pathShare, cohort, ttc, fromPaths, colOut, simP, replayP, stages, suppressed, from, line, nd, later, later2, times, stage, counts, again, erased, codes, n }
