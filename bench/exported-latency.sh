#!/usr/bin/env bash
# Batch-1 latency of an exported model beside the full runtime's and
# onnxruntime's on the same ONNX file, interleaved, in one sitting:
#
#     bench/exported-latency.sh PYTHON SPEC... 
#
# PYTHON has onnxruntime (e.g. the virtual environment .ci/run makes).
# Each spec gets random trained-shape weights from one short `specc train`
# on synthetic data, is exported (crate and ONNX), and then, twice in turn:
# the exported crate's `examples/latency.rs` (no_std on one thread, then
# with its `std` feature on both cores), `specc bench`'s batch-1 line
# (the runtime, both cores) and onnxruntime (2 intra-op threads).
set -euo pipefail
cd "$(dirname "$0")/.."
python="$1"
shift
specc=(cargo run --quiet --release -p specc-cli --)
work="${TMPDIR:-/tmp}/specc-exported-latency"
mkdir -p "$work"
for spec in "$@"; do
    name="$(basename "$spec" .spec)"
    dir="$work/$name"
    "${specc[@]}" train "$spec" --epochs 1 --samples 256 --quiet --out "$dir/run" >/dev/null
    "${specc[@]}" export "$spec" --weights "$dir/run/checkpoint.safetensors" \
        --out "$dir/crate" --onnx "$dir/model.onnx"
    for round in 1 2; do
        echo "== $name, round $round"
        (cd "$dir/crate" && cargo run --quiet --release --example latency &&
            cargo run --quiet --release --example latency --features std)
        "${specc[@]}" bench "$spec" --quiet-build --seconds 1 | grep "inference, batch 1" |
            sed "s/^/runtime: /"
        "$python" - "$dir/model.onnx" <<'PY'
import statistics, sys, time
import numpy as np
import onnxruntime as ort
so = ort.SessionOptions()
so.intra_op_num_threads = 2
s = ort.InferenceSession(sys.argv[1], so, providers=["CPUExecutionProvider"])
shape = [1] + [d for d in s.get_inputs()[0].shape[1:]]
feed = {"input": np.random.rand(*shape).astype(np.float32)}
for _ in range(200):
    s.run(None, feed)
ts = []
end = time.perf_counter() + 2
while time.perf_counter() < end or len(ts) < 50:
    t = time.perf_counter()
    s.run(None, feed)
    ts.append(time.perf_counter() - t)
print(f"onnxruntime {ort.__version__}, batch 1: {statistics.median(ts) * 1e6:.1f} us (median of {len(ts)} calls)")
PY
    done
done
