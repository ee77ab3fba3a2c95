// The example service: a multi-channel journey over HTTP, a restart, and nothing lost.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { once } from 'node:events'

const server = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples', 'server.mjs')

async function start (snapshot) {
  const child = spawn(process.execPath, [server], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', SNAPSHOT: snapshot, MODEL: 'ecommerce' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  const first = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start')), 10000)
    child.stdout.on('data', (c) => {
      out += c
      const line = out.split('\n').find((l) => l.includes('"listening"'))
      if (line) { clearTimeout(timer); resolve(JSON.parse(line)) }
    })
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)))
  })
  const base = `http://127.0.0.1:${first.port}`
  const call = async (method, path, body, type = 'application/json') => {
    const res = await fetch(base + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': type },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    })
    return { status: res.status, body: await res.json() }
  }
  const stop = async () => {
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    const [code] = await exited
    return { code, out }
  }
  return { call, stop, started: first }
}

test('example service: journey over HTTP, restart from the snapshot, nothing lost', async () => {
  const snapshot = join(mkdtempSync(join(tmpdir(), 'jornada-srv-')), 'state.snap')
  let s = await start(snapshot)
  assert.equal(s.started.customers, 0)
  // Web: product views and a cart; SMS consent; the cart is abandoned; an SMS click brings Ana back.
  let r = await s.call('POST', '/touchpoints', { customer_id: 'ana', email: 'ana@example.com', channel: 'web', kind: 'product_view', at: '2026-03-01T10:00:00Z' })
  assert.equal(r.status, 200)
  assert.deepEqual(r.body.transitions.map((t) => t.to), ['visitor', 'browsing'])
  r = await s.call('POST', '/touchpoints', [
    { customer_id: 'ana', channel: 'app', kind: 'add_to_cart', at: '2026-03-01T10:05:00Z' },
    { customer_id: 'ben', channel: 'store', kind: 'purchase', at: '2026-03-01T10:06:00Z', value: 42 },
    { customer_id: 'ana', channel: 'fax', kind: 'add_to_cart', at: '2026-03-01T10:07:00Z' },
  ])
  assert.deepEqual(r.body.rejected.map((x) => [x.index, x.code]), [[2, 'unknown_channel']])
  r = await s.call('POST', '/consent', { customer: 'ana', channel: 'sms', granted: true, at: '2026-03-01T09:00:00Z' })
  assert.equal(r.status, 200)
  r = await s.call('POST', '/advance', { at: '2026-03-01T11:30:00Z' })
  assert.equal(r.body.transitions[0].to, 'abandoned_cart')
  assert.equal(r.body.actions[0].action, 'abandoned_cart_sms')
  assert.equal(r.body.actions[0].suppressed, false)
  r = await s.call('POST', '/touchpoints',
    '{"email":"ana@example.com","channel":"sms","kind":"sms_click","at":"2026-03-01T12:00:00Z"}\n{"nope":1}\n', 'application/x-ndjson')
  assert.deepEqual(r.body.rejected.map((x) => [x.index, x.line]), [[1, 2]])
  r = await s.call('POST', '/touchpoints', { customer_id: 'ana', channel: 'web', kind: 'teleport', at: '2026-03-01T12:00:00Z' })
  assert.equal(r.status, 400)
  assert.equal(r.body.error.code, 'unknown_event_kind')
  assert.equal(r.body.error.path, 'kind')
  const before = { ana: (await s.call('GET', '/customers/ana')).body, ben: (await s.call('GET', '/customers/ben')).body, stages: (await s.call('GET', '/stages')).body }
  assert.equal(before.ana.stage, 'abandoned_cart')
  assert.equal(before.ana.touchpoints, 3)
  assert.equal(before.ben.stage, 'customer')
  assert.equal((await s.call('GET', '/customers/nobody')).status, 404)

  const stopped = await s.stop()
  assert.equal(stopped.code, 0)
  assert.match(stopped.out, /"saved"/)
  assert.ok(existsSync(snapshot))

  s = await start(snapshot)
  assert.equal(s.started.customers, 2)
  assert.deepEqual((await s.call('GET', '/customers/ana')).body, before.ana)
  assert.deepEqual((await s.call('GET', '/customers/ben')).body, before.ben)
  assert.deepEqual((await s.call('GET', '/stages')).body, before.stages)
  // The journey goes on where it was: Ana buys (a duplicate-free continuation after restart).
  r = await s.call('POST', '/touchpoints', { customer_id: 'ana', channel: 'web', kind: 'purchase', at: '2026-03-01T12:10:00Z', value: 59.9 })
  assert.equal(r.body.transitions.at(-1).to, 'customer')
  assert.equal((await s.call('GET', '/customers/ana')).body.history.length, before.ana.history.length + 1)
  assert.equal((await s.stop()).code, 0)
})
