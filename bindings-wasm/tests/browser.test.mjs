// Drives the demo shop in headless Chromium (Debian's `chromium`, through playwright-core):
// clicks through a journey, reloads, checks that the stage shown and the state survived, and
// saves a screenshot; then times score() on a 200-touchpoint journey on the bench page.
//   node --test bindings-wasm/tests/browser.test.mjs      (after bindings-wasm/build.sh)
// Screenshots go to bindings-wasm/screenshots/; the timing to screenshots/bench.json.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../demo/serve.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SHOTS = path.join(HERE, '..', 'screenshots');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
// Exactly the flags of shared/toolchain/wasm.md, plus a fresh profile directory.
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let server, context, base, profile;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  server = await serve(0);
  base = `http://localhost:${server.address().port}`;
  profile = mkdtempSync(path.join(tmpdir(), 'jornada-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, args: ARGS, headless: true, viewport: { width: 1180, height: 640 },
  });
});

after(async () => {
  await context?.close();
  server?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function open(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(`${base}/demo/`);
  await page.waitForSelector('body[data-ready="true"]');
  return errors;
}

const stage = (page) => page.getAttribute('#stage', 'data-stage');
const text = (page, sel) => page.textContent(sel);

test('the demo shop follows the journey and keeps it across a reload', async () => {
  const page = await context.newPage();
  let errors = await open(page);
  assert.equal(await stage(page), '', 'a new visitor has no stage yet');
  assert.equal(await text(page, '#probability'), '—');

  await page.click('.product:nth-child(1) .view');
  assert.equal(await stage(page), 'browsing');
  assert.equal(await text(page, '#probability'), '5% (usually within 6 days)');
  await page.click('.product:nth-child(2) .view');
  await page.click('.product:nth-child(3) .view');
  assert.equal(await stage(page), 'interested', 'three product views within a week');
  assert.match(await text(page, '#message'), /10% off with code WELCOME10/);

  await page.click('.product:nth-child(2) .add');
  assert.equal(await stage(page), 'cart');
  assert.equal(await text(page, '#probability'), '35% (usually within 4 h)');
  assert.match(await text(page, '#next'), /^abandoned cart sms on .* unless purchase$/);
  assert.equal(await page.getAttribute('.bar', 'aria-valuenow'), '60'); // cart is 3 of 5 stages to `customer`
  assert.equal(await text(page, '#effort'), '4 touches, 1 channel(s), 0 switch(es)');

  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await stage(page), 'cart', 'the stage survives a reload');
  assert.equal(await text(page, '#effort'), '4 touches, 1 channel(s), 0 switch(es)', 'so do the touchpoints');
  assert.equal(await text(page, '#cart-count'), '1');
  await page.screenshot({ path: path.join(SHOTS, 'demo-cart.png') });

  await page.click('#checkout');
  await page.click('#buy');
  assert.equal(await stage(page), 'customer');
  assert.equal(await text(page, '#probability'), '100%');
  assert.equal(await page.getAttribute('.bar', 'aria-valuenow'), '100');
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await stage(page), 'customer');
  assert.match(await text(page, '#next'), /^review request on .* unless return or review$/);
  await page.screenshot({ path: path.join(SHOTS, 'demo-customer.png') });
  assert.deepEqual(errors, []);

  // A saved journey from another model is refused with a code, and the page starts afresh.
  await page.evaluate(async () => {
    const { Journey } = await import('/pkg/web/jornada_wasm.js');
    localStorage.setItem('jornada-demo-journey', new Journey('seven_phase').save());
  });
  const warnings = [];
  page.on('console', (m) => { if (m.type() === 'warning') warnings.push(m.text()); });
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await stage(page), '');
  assert.ok(warnings.some((w) => w.includes('[model_mismatch]')), JSON.stringify(warnings));
  await page.close();
});

test('score() on a 200-touchpoint journey (bench page)', async () => {
  const page = await context.newPage();
  await page.goto(`${base}/demo/bench.html`);
  const result = await page.waitForFunction(() => window.benchResult, null, { timeout: 60_000 }).then((h) => h.jsonValue());
  writeFileSync(path.join(SHOTS, 'bench.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(`score() on ${result.touches} touchpoints in Chromium: best ${result.bestMicros.toFixed(2)} µs, median ${result.medianMicros.toFixed(2)} µs per call (mean of ${result.calls} calls, ${result.rounds} rounds)`);
  assert.equal(result.touches, 200);
  await page.close();
});
