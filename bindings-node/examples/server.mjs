// A journey service on plain node:http, keeping its state across restarts.
//
//   PORT=8080 SNAPSHOT=./jornada.snap MODEL=ecommerce node examples/server.mjs
//
// POST /touchpoints   one touchpoint (JSON object), a JSON array, or NDJSON
//                     (Content-Type: application/x-ndjson); answers the outcome: transitions,
//                     actions to take, retractions, merges, duplicates, rejected touchpoints
// POST /consent       {"customer", "channel", "granted", "at"}
// POST /advance       {"at"}: moves event time on and fires due timeouts (a cron would call it)
// GET  /customers/:id the customer's stage, history, keys and consent (404 if unknown)
// GET  /stages        customers per stage
//
// The state is saved to SNAPSHOT on SIGTERM and SIGINT (written to a temporary file, then
// renamed, so a crash mid-write never leaves a damaged snapshot) and restored on start.
import { createServer } from 'node:http'
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { Engine, Model } = require('../index.js')

const port = Number(process.env.PORT ?? 8080)
const host = process.env.HOST ?? '127.0.0.1'
const snapshotPath = process.env.SNAPSHOT ?? 'jornada.snap'
const MAX_BODY = 64 * 1024 * 1024

const engine = existsSync(snapshotPath)
  ? Engine.restore(readFileSync(snapshotPath))
  : new Engine(Model.preset(process.env.MODEL ?? 'ecommerce'))

function send (res, status, body) {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

function readBody (req) {
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    req.on('data', (c) => {
      size += c.length
      if (size > MAX_BODY) {
        reject(Object.assign(new Error('body too large'), { status: 413, code: 'body_too_large' }))
        req.destroy()
      } else chunks.push(c)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

function parseJson (buf) {
  try {
    return JSON.parse(buf.toString('utf8'))
  } catch (e) {
    throw Object.assign(new Error(`invalid JSON body: ${e.message}`), { status: 400, code: 'invalid_json' })
  }
}

async function handle (req, res) {
  const url = new URL(req.url, 'http://localhost')
  if (req.method === 'POST' && url.pathname === '/touchpoints') {
    const body = await readBody(req)
    const type = req.headers['content-type'] ?? ''
    if (type.startsWith('application/x-ndjson')) return send(res, 200, engine.ingestNdjson(body))
    const value = parseJson(body)
    return send(res, 200, Array.isArray(value) ? engine.ingestMany(value) : engine.ingest(value))
  }
  if (req.method === 'POST' && url.pathname === '/consent') {
    const { customer, channel, granted, at } = parseJson(await readBody(req))
    return send(res, 200, engine.setConsent(customer, channel, granted, at))
  }
  if (req.method === 'POST' && url.pathname === '/advance') {
    const { at } = parseJson(await readBody(req))
    return send(res, 200, engine.advanceTo(at ?? Date.now()))
  }
  if (req.method === 'GET' && url.pathname.startsWith('/customers/')) {
    const customer = engine.customer(decodeURIComponent(url.pathname.slice('/customers/'.length)))
    return customer ? send(res, 200, customer) : send(res, 404, { error: { code: 'unknown_customer' } })
  }
  if (req.method === 'GET' && url.pathname === '/stages') return send(res, 200, engine.stageCounts())
  send(res, 404, { error: { code: 'not_found', message: `${req.method} ${url.pathname}` } })
}

const server = createServer((req, res) => {
  handle(req, res).catch((e) => {
    // jornada errors carry a stable code (and path/index/line where they apply).
    const status = e.status ?? (e.code === 'engine_busy' ? 503 : e.code === 'internal_error' ? 500 : 400)
    send(res, status, { error: { code: e.code ?? 'error', message: e.message, path: e.path } })
  })
})

function saveAndExit (signal) {
  server.close()
  const tmp = `${snapshotPath}.tmp`
  writeFileSync(tmp, engine.snapshot())
  renameSync(tmp, snapshotPath)
  console.log(JSON.stringify({ event: 'saved', signal, snapshot: snapshotPath, customers: engine.size }))
  process.exit(0)
}
process.on('SIGTERM', saveAndExit)
process.on('SIGINT', saveAndExit)

server.listen(port, host, () => {
  const { port: actual } = server.address()
  console.log(JSON.stringify({ event: 'listening', host, port: actual, customers: engine.size }))
})
