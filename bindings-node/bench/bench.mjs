// Benchmarks of the Node binding (release build):
//   node --expose-gc bench/bench.mjs [touchpoints] [customers]
//
// - ingestMany throughput on plain objects, ingestColumns on the same touchpoints as columns, and ingestNdjson on the same touchpoints as one
//   Buffer (the core's parser straight on the bytes); the difference is the JS->Rust conversion;
// - single `ingest` latency (p50, p99, p99.9) on a warm engine;
// - the event loop's longest stall while ingestManyAsync / ingestNdjsonAsync run, measured with
//   perf_hooks.monitorEventLoopDelay and a 1 ms setInterval probe.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { Engine, Model } = require('../index.js')

const N = Number(process.argv[2] ?? 500_000)
const CUSTOMERS = Number(process.argv[3] ?? Math.max(1, Math.floor(N / 10)))
const model = Model.preset('ecommerce')

/** A seeded, time-ordered workload: sessions of views, carts, purchases and marketing touches. */
function workload (n, customers) {
  let seed = 42
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32)
  const kinds = [['web', 'page_view'], ['web', 'product_view'], ['app', 'product_view'], ['web', 'add_to_cart'],
    ['app', 'add_to_cart'], ['web', 'purchase'], ['email', 'email_open'], ['sms', 'sms_click'], ['store', 'store_visit']]
  const weights = [30, 25, 10, 8, 4, 3, 10, 5, 5]
  const total = weights.reduce((a, b) => a + b)
  const out = new Array(n)
  let at = Date.parse('2026-03-01T00:00:00Z')
  for (let i = 0; i < n; i++) {
    at += Math.floor(rnd() * 2000)
    let r = rnd() * total
    let k = 0
    while ((r -= weights[k]) > 0) k++
    const [channel, kind] = kinds[k]
    const tp = { customer_id: `c${Math.floor(rnd() * customers)}`, channel, kind, at }
    if (kind === 'purchase') tp.value = Math.round(rnd() * 20000) / 100
    if (kind === 'product_view') tp.properties = { sku: `sku-${Math.floor(rnd() * 1000)}` }
    out[i] = tp
  }
  return out
}

const fmt = (x, d = 2) => x.toFixed(d)
const results = {}

console.log(`jornada Node binding bench: ${N.toLocaleString()} touchpoints, ${CUSTOMERS.toLocaleString()} customers, ecommerce preset, node ${process.version}`)
const list = workload(N, CUSTOMERS)
const ndjson = Buffer.from(list.map((t) => JSON.stringify(t)).join('\n'))

function best (runs, f) {
  let bestMs = Infinity
  let last
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now()
    last = f()
    bestMs = Math.min(bestMs, performance.now() - t0)
  }
  return { ms: bestMs, last }
}

// Throughput (best of 3, fresh engine each run).
const many = best(3, () => new Engine(model).ingestMany(list))
const nd = best(3, () => new Engine(model).ingestNdjson(ndjson))
const columns = {
  customer_id: list.map((t) => t.customer_id),
  channel: list.map((t) => t.channel),
  kind: list.map((t) => t.kind),
  at: Float64Array.from(list, (t) => t.at),
  value: Float64Array.from(list, (t) => t.value ?? NaN),
  properties: { sku: list.map((t) => t.properties?.sku) },
}
const cols = best(3, () => new Engine(model).ingestColumns(columns))
const stringify = best(3, () => Buffer.from(list.map((t) => JSON.stringify(t)).join('\n')))
if (many.last.rejected.length || nd.last.rejected.length || cols.last.rejected.length) throw new Error('the workload must be valid')
results.ingestMany_per_s = N / (many.ms / 1000)
results.ingestNdjson_per_s = N / (nd.ms / 1000)
results.conversion_ns_per_touchpoint = ((many.ms - nd.ms) * 1e6) / N
results.ingestColumns_per_s = N / (cols.ms / 1000)
results.columns_conversion_ns_per_touchpoint = ((cols.ms - nd.ms) * 1e6) / N
console.log(`ingestMany (objects)        ${fmt(results.ingestMany_per_s / 1e6)} M touchpoints/s  (${fmt(many.ms, 0)} ms)`)
console.log(`ingestNdjson (one Buffer)   ${fmt(results.ingestNdjson_per_s / 1e6)} M touchpoints/s  (${fmt(nd.ms, 0)} ms, ${fmt(ndjson.length / 1e6, 1)} MB)`)
console.log(`  JS->Rust conversion       ${fmt(results.conversion_ns_per_touchpoint, 0)} ns per touchpoint (ingestMany minus ingestNdjson)`)
console.log(`ingestColumns (columns)     ${fmt(results.ingestColumns_per_s / 1e6)} M touchpoints/s  (${fmt(cols.ms, 0)} ms)`)
console.log(`  JS->Rust conversion       ${fmt(results.columns_conversion_ns_per_touchpoint, 0)} ns per touchpoint (ingestColumns minus ingestNdjson)`)
console.log(`  for scale: JSON.stringify of the list to NDJSON in JS takes ${fmt(stringify.ms, 0)} ms`)
const outputs = many.last
const t0 = performance.now()
const nOut = outputs.transitions.length + outputs.actions.length
console.log(`  reading the ${nOut.toLocaleString()} outputs of ingestMany as JS objects: ${fmt(performance.now() - t0, 0)} ms (lazy: only when read)`)

// Single ingest latency on a warm engine (the first half of the workload loaded).
{
  const engine = new Engine(model)
  const half = Math.floor(N / 2)
  engine.ingestMany(list.slice(0, half))
  const samples = new Float64Array(N - half)
  for (let i = half; i < N; i++) {
    const s = process.hrtime.bigint()
    const out = engine.ingest(list[i])
    samples[i - half] = Number(process.hrtime.bigint() - s) / 1000
    if (out.isEmpty === undefined) throw new Error('unreachable')
  }
  samples.sort()
  const q = (p) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]
  results.ingest_p50_us = q(0.5)
  results.ingest_p99_us = q(0.99)
  results.ingest_p999_us = q(0.999)
  console.log(`ingest (one object)         p50 ${fmt(q(0.5))} µs, p99 ${fmt(q(0.99))} µs, p99.9 ${fmt(q(0.999))} µs, max ${fmt(samples[samples.length - 1])} µs (${samples.length.toLocaleString()} calls)`)
}

// Event-loop delay while the async batches run.
async function stall (label, f) {
  // Engines of earlier runs are garbage; collect them first, so that their finalizers (freeing
  // Rust memory on the JS thread) are not counted as a stall of this batch.
  globalThis.gc?.()
  await new Promise((resolve) => setTimeout(resolve, 50))
  const h = monitorEventLoopDelay({ resolution: 1 })
  let last = performance.now()
  let worst = 0
  const probe = setInterval(() => {
    const now = performance.now()
    worst = Math.max(worst, now - last)
    last = now
  }, 1)
  h.enable()
  const t0 = performance.now()
  const out = await f()
  const ms = performance.now() - t0
  h.disable()
  clearInterval(probe)
  const maxDelay = h.max / 1e6
  console.log(`${label.padEnd(27)} ${fmt(N / (ms / 1000) / 1e6)} M touchpoints/s; event loop: max delay ${fmt(maxDelay)} ms (monitorEventLoopDelay), longest 1 ms-interval gap ${fmt(worst)} ms`)
  return { out, maxDelay, worst }
}
const a = await stall('ingestManyAsync (objects)', () => new Engine(model).ingestManyAsync(list))
const b = await stall('ingestNdjsonAsync (Buffer)', () => new Engine(model).ingestNdjsonAsync(ndjson))
results.ingestManyAsync_max_loop_delay_ms = a.maxDelay
results.ingestManyAsync_longest_interval_gap_ms = a.worst
results.ingestNdjsonAsync_max_loop_delay_ms = b.maxDelay
if (a.out.transitions.length !== many.last.transitions.length) throw new Error('async and sync differ')
console.log(JSON.stringify(results))
