// Type-checked (not run) by `tsc -p test/types`: the declarations in index.d.ts must describe
// the API as the README uses it; the @ts-expect-error lines must fail to type-check.
import {
  Engine, Model, Outcome, errorCodes,
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

export { stages, suppressed, from, line, nd, later, later2, times, stage, counts, again, erased, codes, n }
