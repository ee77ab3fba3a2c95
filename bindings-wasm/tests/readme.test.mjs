// The WebAssembly quickstart of the repository's README.md runs under Node as written, with the
// `jornada-wasm` import pointed at pkg/node.mjs, `localStorage` provided and `console.assert`
// made fatal.
//   node --test bindings-wasm/tests/readme.test.mjs      (after bindings-wasm/build.sh)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const readme = readFileSync(join(here, '..', '..', 'README.md'), 'utf8');
const entry = pathToFileURL(join(here, '..', 'pkg', 'node.mjs')).href;

test("the repository README's WebAssembly quickstart runs", () => {
  const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)]
    .map((m) => m[1])
    .filter((b) => b.includes("from 'jornada-wasm'"));
  assert.equal(blocks.length, 1, 'one WebAssembly quickstart in the root README');
  const prelude = [
    "console.assert = (ok, ...m) => { if (!ok) throw new Error('console.assert failed ' + m.join(' ')) }",
    'const store = new Map()',
    'globalThis.localStorage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, String(v)) }',
  ].join('\n');
  // After the snippet: what it saved loads back into the same journey.
  const after = `
const { Journey: J } = await import('${entry}')
const back = J.load('ecommerce', localStorage.getItem('journey'))
console.assert(back.score().stage === 'abandoned_cart', 'saved journey loads back')
console.log('ok')
`;
  const file = join(mkdtempSync(join(tmpdir(), 'jornada-wasm-readme-')), 'snippet.mjs');
  writeFileSync(file, `${prelude}\n${blocks[0].replaceAll("from 'jornada-wasm'", `from '${entry}'`)}\n${after}`);
  const out = execFileSync(process.execPath, [file], { encoding: 'utf8' });
  assert.equal(out.trim(), 'ok');
});
