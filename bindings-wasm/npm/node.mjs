// Node.js entry of jornada-wasm: the `nodejs` build (its .wasm is loaded synchronously when this
// module is imported), with the web build's exports, `init()` included, so that
//   import init, { Journey, errorCodes } from 'jornada-wasm'; await init();
// runs unchanged in the browser and in Node.
import { createRequire } from 'node:module';

const wasm = createRequire(import.meta.url)('./nodejs/jornada_wasm.js');

export const { Journey, Engine, errorCodes, problemCodes, presetNames, presetModel } = wasm;

/** Nothing to load in Node (the module is ready once imported); kept for the web build's API. */
export default async function init() {
  return wasm;
}
