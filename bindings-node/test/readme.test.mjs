// The README's snippets run: the quickstart as written (with `console.assert` made fatal), and
// the error example against a fresh engine.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const readme = readFileSync(join(root, 'README.md'), 'utf8')
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1])
const entry = pathToFileURL(join(root, 'index.js')).href

function runModule (code) {
  const file = join(mkdtempSync(join(tmpdir(), 'jornada-readme-')), 'snippet.mjs')
  const prelude = "console.assert = (ok, ...m) => { if (!ok) throw new Error('console.assert failed ' + m.join(' ')) }\n"
  writeFileSync(file, prelude + code.replaceAll("from 'jornada'", `from '${entry}'`))
  return execFileSync(process.execPath, [file], { encoding: 'utf8' })
}

test('README quickstart runs', () => {
  assert.ok(blocks.length >= 2, 'the README has its js snippets')
  assert.match(blocks[0], /from 'jornada'/)
  runModule(blocks[0])
})

test('README error example gives the code, path and message it shows', () => {
  const snippet = blocks[1]
  const code = `import { Engine, Model } from 'jornada'
const engine = new Engine(Model.preset('ecommerce'))
let seen = null
${snippet.replace(/e\.code\s+\/\/ '(\w+)'/, "seen = e; console.assert(e.code === '$1', e.code)")
    .replace(/e\.path\s+\/\/ '(\w+)'.*/, "console.assert(e.path === '$1', e.path)")
    .replace(/e\.message \/\/ "(.*)"/, (m, msg) => `console.assert(e.message === ${JSON.stringify(msg)}, e.message)`)}
console.assert(seen !== null, 'the example threw')
`
  runModule(code)
})

test('README analytics example runs', () => {
  const snippet = blocks.find((b) => b.includes('EventLog.fromNdjson'))
  assert.ok(snippet, 'the README has the analytics example')
  runModule(snippet)
})

test("the repository README's Node.js quickstart runs", () => {
  const rootReadme = readFileSync(join(root, '..', 'README.md'), 'utf8')
  const node = [...rootReadme.matchAll(/```js\n([\s\S]*?)```/g)]
    .map((m) => m[1])
    .filter((b) => b.includes("from 'jornada'"))
  assert.equal(node.length, 1, 'one Node.js quickstart in the root README')
  runModule(node[0])
})
