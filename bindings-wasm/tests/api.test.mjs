// The JS API of the WebAssembly build under Node: the README's quickstart, error objects, and
// hostile input (wrong types, NaN, huge strings, deep nesting, invalid dates, damaged saved
// state). Every call must return or throw a coded JornadaError: never a WebAssembly trap, and
// the objects must keep working afterwards.
//   node --test bindings-wasm/tests/api.test.mjs      (after bindings-wasm/build.sh)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import init, { Journey, Engine, errorCodes, problemCodes, presetNames, presetModel } from '../pkg/node.mjs';

await init();
const CODES = Object.keys(errorCodes());
const T0 = Date.UTC(2026, 2, 1, 10);
const scoring = { target: 'customer', stages: { browsing: { p_convert: 0.08, expected_time: '3d' }, cart: { p_convert: 0.35, expected_time: '2h' } } };
const model = { ...JSON.parse(presetModel('ecommerce')), scoring };

function coded(fn, code) {
  let thrown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, 'expected a throw');
  assert.ok(!(thrown instanceof WebAssembly.RuntimeError), `a WebAssembly trap: ${thrown}`);
  assert.ok(thrown instanceof Error, `not an Error: ${thrown}`);
  assert.equal(thrown.name, 'JornadaError', String(thrown));
  assert.ok(CODES.includes(thrown.code), `unknown code ${thrown.code}`);
  if (code) assert.equal(thrown.code, code, thrown.message);
  return thrown;
}

/** Calls fn; it may return or throw a coded error, nothing else. */
function survives(fn) {
  try {
    fn();
  } catch (e) {
    assert.ok(!(e instanceof WebAssembly.RuntimeError), `a WebAssembly trap: ${e}`);
    assert.equal(e?.name, 'JornadaError', String(e));
    assert.ok(CODES.includes(e.code), `unknown code ${e.code}`);
  }
}

test('quickstart: push, score, save, load', () => {
  const journey = new Journey(model);
  journey.push({ channel: 'web', kind: 'product_view', at: T0, properties: { sku: 'A1' } });
  let s = journey.score();
  assert.equal(s.stage, 'browsing');
  assert.equal(s.stageIndex, 1);
  assert.equal(s.enteredAt, T0);
  assert.equal(s.progress, 0.2);
  assert.equal(s.probabilityToConvert, 0.08);
  assert.equal(s.expectedTimeToConvert, 3 * 86_400_000);
  assert.deepEqual(s.nextActions.map((n) => n.rule), ['first_purchase', 'cart_filled', 'became_interested']);
  assert.deepEqual(s.effort, { touches: 1, channels: 1, channelSwitches: 0, elapsed: 0 });

  const out = journey.push({ channel: 'app', kind: 'add_to_cart', at: new Date(T0 + 60_000) });
  assert.deepEqual(out.transitions.map((t) => [t.from, t.to, t.at]), [['browsing', 'cart', T0 + 60_000]]);
  s = journey.score();
  assert.equal(s.nextActions[0].trigger, 'timeout');
  assert.equal(s.nextActions[0].due, T0 + 60_000 + 3_600_000);
  assert.equal(s.effort.channelSwitches, 1);

  const saved = journey.save();
  assert.match(saved, /^[A-Za-z0-9+/]+=*$/);
  const again = Journey.load(model, saved);
  assert.deepEqual(again.score(), s);
  assert.deepEqual(again.view(), journey.view());
  const fired = again.advanceTo(T0 + 2 * 3_600_000);
  assert.equal(fired.actions[0].action, 'abandoned_cart_sms');
  assert.equal(fired.actions[0].suppressed, true);
});

test('without a scoring table the probability is absent, not made up', () => {
  const journey = new Journey('ecommerce');
  assert.deepEqual(journey.score(), {
    stage: null, stageIndex: null, enteredAt: null, progress: 0, nextActions: [],
    effort: { touches: 0, channels: 0, channelSwitches: 0, elapsed: 0 },
  });
  journey.push({ channel: 'web', kind: 'search', at: T0 });
  const s = journey.score();
  assert.equal(s.stage, 'browsing');
  assert.ok(!('probabilityToConvert' in s) && !('expectedTimeToConvert' in s));
  assert.equal(s.progress, 1 / 8);
});

test('errors are Error objects with code, path, problems', () => {
  const e = coded(() => new Journey({ ...model, scoring: { ...scoring, stages: { cart: { p_convert: 2 } } } }), 'invalid_model');
  assert.equal(e.path, 'scoring.stages.cart.p_convert');
  assert.deepEqual(e.problems.map((p) => [p.path, p.code]), [['scoring.stages.cart.p_convert', 'out_of_range']]);
  const j = new Journey(model);
  assert.equal(coded(() => j.push({ channel: 'fax', kind: 'search', at: T0 }), 'unknown_channel').path, 'channel');
  assert.equal(coded(() => j.push({ channel: 'web', kind: 'search', at: T0, properties: { sku: 5 } }), 'wrong_type').path, 'properties.sku');
  assert.equal(coded(() => j.push({ customer_id: 'c9', channel: 'web', kind: 'search', at: T0 }), 'invalid_value').path, 'customer_id');
  coded(() => new Journey('no_such_preset'), 'unknown_preset');
  coded(() => Journey.load('seven_phase', j.save()), 'model_mismatch');
  const engine = new Engine('ecommerce');
  const batch = engine.ingestBatch([{ customer_id: 'c1', channel: 'web', kind: 'search', at: T0 }, { channel: 'web' }, 42]);
  assert.deepEqual(batch.rejected.map((r) => r.index), [1, 2]);
  assert.ok(batch.rejected.every((r) => CODES.includes(r.code) && r.message.length > 0));
  assert.equal(batch.transitions.length, 2);
  const lines = engine.ingestJsonLines('{"customer_id": "c2", "channel": "web", "kind": "search", "at": 0}\n\n{oops}\n');
  assert.deepEqual(lines.rejected.map((r) => [r.index, r.line, r.code]), [[1, 3, 'invalid_json']]);
  assert.deepEqual(Object.keys(problemCodes()).slice(0, 2), ['parse', 'unsupported_version']);
  assert.deepEqual(presetNames(), ['seven_phase', 'five_stage_loyalty', 'five_stage_retention', 'ecommerce']);
  assert.ok(CODES.includes('model_mismatch') && CODES.length === 20);
});

test('hostile arguments get coded errors, never a trap', () => {
  const deep = {};
  let node = deep;
  for (let i = 0; i < 200_000; i++) node = node.a = {};
  const cyclic = { channel: 'web' };
  cyclic.self = cyclic;
  const throwing = { get channel() { throw new Error('boom'); } };
  const huge = 'x'.repeat(33 * 1024 * 1024);
  const weird = [undefined, null, 0, -0, NaN, Infinity, -Infinity, 1e300, 1.5, -1, 2 ** 53, 10n, '', 'x', huge,
    '\ud800', [], [1, 2], {}, deep, cyclic, throwing, Symbol('s'), () => 1, new Date(NaN), new Date(8.64e15),
    new Uint8Array(3), '{', '['.repeat(100_000), '{"a":'.repeat(100_000)];

  for (const m of weird) survives(() => new Journey(m));
  for (const m of weird) survives(() => new Engine(m));
  const j = new Journey(model);
  const e = new Engine(model);
  for (const v of weird) {
    survives(() => j.push(v));
    survives(() => j.push({ channel: 'web', kind: 'search', at: v }));
    survives(() => j.push({ channel: v, kind: 'search', at: T0 }));
    survives(() => j.push({ channel: 'web', kind: 'search', at: T0, value: v, properties: { sku: v, x: v } }));
    survives(() => j.advanceTo(v));
    survives(() => j.setConsent(v, true, T0));
    survives(() => j.setConsent('sms', v, T0));
    survives(() => j.setConsent('sms', true, v));
    survives(() => Journey.load(model, v));
    survives(() => Journey.load(v, j.save()));
    survives(() => e.ingest(v));
    survives(() => e.ingestBatch(v));
    survives(() => e.ingestBatch([v, v]));
    survives(() => e.ingestJsonLines(v));
    survives(() => e.advanceTo(v));
    survives(() => e.setConsent(v, 'sms', true, T0));
    survives(() => e.erase(v));
    survives(() => e.customer(v));
    survives(() => e.score(v));
    survives(() => Engine.restore(v));
  }
  coded(() => j.advanceTo(NaN), 'invalid_timestamp');
  coded(() => j.advanceTo(1.5), 'invalid_timestamp');
  coded(() => j.advanceTo('2026-13-45T00:00:00Z'), 'invalid_timestamp');
  coded(() => j.advanceTo(new Date(NaN)), 'invalid_timestamp');
  coded(() => j.advanceTo(1e300), 'invalid_timestamp');
  coded(() => j.advanceTo({}), 'wrong_type');
  coded(() => j.push({ channel: 'web', kind: 'search', at: new Date(NaN) }));
  coded(() => j.push(huge), 'capacity_exceeded');
  coded(() => j.push(deep), 'invalid_json');
  coded(() => j.push(cyclic), 'invalid_json');
  coded(() => j.push(throwing), 'invalid_json');
  coded(() => j.push({ channel: 'web', kind: 'search', at: T0, properties: { sku: 'y'.repeat(70_000) } }), 'invalid_value');
  assert.deepEqual(e.ingestJsonLines('['.repeat(100_000)).rejected.map((r) => [r.line, r.code]), [[1, 'invalid_json']]);
  // Still working.
  j.push({ channel: 'web', kind: 'search', at: T0 });
  assert.equal(j.score().stage, 'browsing');
  e.ingest({ customer_id: 'c1', channel: 'web', kind: 'search', at: T0 });
  assert.equal(e.customer('c1').stage, 'browsing');
});

test('damaged saved state gets corrupt_snapshot (or loads), never a trap', () => {
  const j = new Journey(model);
  for (let i = 0; i < 30; i++) j.push({ channel: i % 2 ? 'web' : 'app', kind: 'product_view', at: T0 + i * 1000, properties: { sku: `S${i}` } });
  const saved = j.save();
  const bytes = Buffer.from(saved, 'base64');
  coded(() => Journey.load(model, 'not base64 at all!'), 'corrupt_snapshot');
  coded(() => Journey.load(model, saved.slice(0, -4)), 'corrupt_snapshot');
  coded(() => Journey.load(model, ''), 'corrupt_snapshot');
  coded(() => Engine.restore(bytes.subarray(0, 10)), 'corrupt_snapshot');
  let seed = 42;
  const rand = (n) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  for (let i = 0; i < 300; i++) {
    const b = Buffer.from(bytes);
    for (let k = 0; k <= rand(4); k++) b[rand(b.length)] = rand(256);
    survives(() => Journey.load(model, b.toString('base64')));
    survives(() => Engine.restore(new Uint8Array(b)));
  }
  assert.equal(Journey.load(model, saved).score().effort.touches, 30);
});
