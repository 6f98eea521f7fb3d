#!/usr/bin/env bash
# Builds the drawing page into OUT/site: trains mnist_cnn on the real MNIST
# with the CLI, exports it and compiles its C ABI crate to WebAssembly.
#
#     examples/web-digits/build.sh MNIST_DIR OUT
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="$1"
mkdir -p "$2"
out="$(cd "$2" && pwd)"
cd "$here/../.."
specc=(cargo run --quiet --release -p specc-cli --)
"${specc[@]}" train specs/mnist_cnn.spec --data "mnist:$data" --epochs 5 --quiet --out "$out/run"
"${specc[@]}" export specs/mnist_cnn.spec --weights "$out/run/checkpoint.safetensors" --out "$out/crate"
(cd "$out/crate" &&
    cargo rustc --quiet --release -p mnist_cnn_c --target wasm32-unknown-unknown --crate-type cdylib)
mkdir -p "$out/site"
cp "$here/index.html" "$here/app.js" "$out/site/"
cp "$out/crate/target/wasm32-unknown-unknown/release/mnist_cnn_c.wasm" "$out/site/mnist_cnn.wasm"
echo "built $out/site ($(stat -c %s "$out/site/mnist_cnn.wasm") bytes of WebAssembly)"
