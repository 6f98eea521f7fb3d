// Runs an exported model's WebAssembly build (its C ABI crate compiled for
// wasm32-unknown-unknown as a cdylib) under Node.js, through nothing but
// its exported functions and linear memory: no bindings generator.
//
//     node run.mjs MODEL.wasm MODULE INPUTS.bin BATCH OUTPUT_LEN
//
// places the raw little-endian f32 samples of INPUTS.bin past the module's
// data (`__heap_base`), calls MODULE_predict for each sample and
// MODULE_predict_batch for all, and prints each output row as
// `wasm i: v v ...` and `wasm-batch i: ...` (shortest text of each float32).
// Used by tests/tests/export.rs.
import { readFileSync } from "node:fs";

const [wasmPath, module, inputsPath, batchText, outputLenText] = process.argv.slice(2);
const batch = Number(batchText);
const outputLen = Number(outputLenText);
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {});
const e = instance.exports;
const memory = e.memory;
const predict = e[`${module}_predict`];
const predictBatch = e[`${module}_predict_batch`];
const workspaceBytes = e[`${module}_workspace_bytes`];

const inputs = readFileSync(inputsPath);
const inputLen = inputs.length / 4 / batch;
const workspaceLen = workspaceBytes(batch);
const align = (n) => Math.ceil(n / 64) * 64;
const inputAt = align(e.__heap_base.value);
const outputAt = align(inputAt + inputs.length);
const outputBytes = align(4 * batch * outputLen);
const batchOutAt = outputAt + outputBytes;
const workspaceAt = align(batchOutAt + outputBytes);
const end = workspaceAt + workspaceLen;
if (end > memory.buffer.byteLength) {
  memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
}
new Uint8Array(memory.buffer, inputAt, inputs.length).set(inputs);

for (let i = 0; i < batch; i++) {
  const rc = predict(inputAt + 4 * i * inputLen, outputAt + 4 * i * outputLen);
  if (rc !== 0) throw new Error(`${module}_predict returned ${rc}`);
}
const rc = predictBatch(inputAt, batch, batchOutAt, workspaceAt, workspaceLen);
if (rc !== 0) throw new Error(`${module}_predict_batch returned ${rc}`);
for (const [label, at] of [["wasm", outputAt], ["wasm-batch", batchOutAt]]) {
  const out = new Float32Array(memory.buffer, at, batch * outputLen);
  for (let i = 0; i < batch; i++) {
    const row = Array.from(out.subarray(i * outputLen, (i + 1) * outputLen), String);
    console.log(`${label} ${i}: ${row.join(" ")}`);
  }
}
