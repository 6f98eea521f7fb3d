#!/usr/bin/env bash
# The drawing page end to end: builds it (build.sh), draws a stroke in
# headless Chromium (draw.mjs) and checks the class the page shows, and its
# probabilities, against `specc predict` on the same 28x28 image.
#
#     examples/web-digits/test.sh MNIST_DIR OUT
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$2"
out="$(cd "$2" && pwd)"
"$here/build.sh" "$1" "$out"
node "$here/draw.mjs" "$out/site" "$out"
cd "$here/../.."
cargo run --quiet --release -p specc-cli -- predict specs/mnist_cnn.spec --quiet-build \
    --weights "$out/run/checkpoint.safetensors" --values "$out/drawn.idx" >"$out/predict.txt"
node - "$out/page.json" "$out/predict.txt" <<'JS'
const fs = require("node:fs");
const page = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const line = fs.readFileSync(process.argv[3], "utf8").trim();
const values = line.split(": ")[1].split(" ").map(Number);
const best = values.indexOf(Math.max(...values));
if (best !== page.class) throw new Error(`page says ${page.class}, specc predict ${best}: ${line}`);
// WebAssembly runs the portable kernels, specc predict the CPU's widest.
values.forEach((v, k) => {
  if (Math.abs(v - page.probabilities[k]) > 1e-5) {
    throw new Error(`probability of ${k}: page ${page.probabilities[k]}, specc predict ${v}`);
  }
});
console.log(`web-digits: the page and specc predict agree: class ${best} (${(100 * values[best]).toFixed(1)}%)`);
JS
