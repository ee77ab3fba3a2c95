// Types of the Node.js entry: the same API as the web build; `init()` resolves at once.
export * from './nodejs/jornada_wasm.js';
export default function init(): Promise<unknown>;
