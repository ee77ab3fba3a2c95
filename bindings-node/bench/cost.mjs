// Instruction counts of the bulk ingest paths, for callgrind (wall-clock timings on a loaded
// machine are noise):
//   valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file=/dev/null \
//     node bench/cost.mjs MODE [touchpoints]
// MODE: `setup` (the workload only), `many` (ingestMany on objects), `columns` (ingestColumns),
// `ndjson` (ingestNdjson: the core's own JSON-lines path). Subtract `setup` from the others;
// `ndjson` minus `setup` is the core's cost, the rest of `many`/`columns` the binding's.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { Engine, Model } = require('../index.js')

const mode = process.argv[2] ?? 'setup'
const N = Number(process.argv[3] ?? 20_000)
const customers = Math.max(1, Math.floor(N / 10))
let seed = 42
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32)
const kinds = [['web', 'page_view'], ['web', 'product_view'], ['app', 'product_view'], ['web', 'add_to_cart'],
  ['app', 'add_to_cart'], ['web', 'purchase'], ['email', 'email_open'], ['sms', 'sms_click'], ['store', 'store_visit']]
const weights = [30, 25, 10, 8, 4, 3, 10, 5, 5]
const total = weights.reduce((a, b) => a + b)
const list = new Array(N)
let at = Date.parse('2026-03-01T00:00:00Z')
for (let i = 0; i < N; i++) {
  at += Math.floor(rnd() * 2000)
  let r = rnd() * total
  let k = 0
  while ((r -= weights[k]) > 0) k++
  const [channel, kind] = kinds[k]
  const tp = { customer_id: `c${Math.floor(rnd() * customers)}`, channel, kind, at }
  if (kind === 'purchase') tp.value = Math.round(rnd() * 20000) / 100
  if (kind === 'product_view') tp.properties = { sku: `sku-${Math.floor(rnd() * 1000)}` }
  list[i] = tp
}
const columns = {
  customer_id: list.map((t) => t.customer_id),
  channel: list.map((t) => t.channel),
  kind: list.map((t) => t.kind),
  at: Float64Array.from(list, (t) => t.at),
  value: Float64Array.from(list, (t) => t.value ?? NaN),
  properties: { sku: list.map((t) => t.properties?.sku) },
}
const ndjson = Buffer.from(list.map((t) => JSON.stringify(t)).join('\n'))
const engine = new Engine(Model.preset('ecommerce'))
let out
if (mode === 'many') out = engine.ingestMany(list)
else if (mode === 'columns') out = engine.ingestColumns(columns)
else if (mode === 'ndjson') out = engine.ingestNdjson(ndjson)
else if (mode !== 'setup') throw new Error(`unknown mode ${mode}`)
if (out && out.rejected.length) throw new Error('the workload must be valid')
console.log(mode, N, engine.size)
