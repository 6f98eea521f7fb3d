#!/usr/bin/env bash
# Training throughput at batch 128 on both cores, specc in f32 and bf16
# beside PyTorch in every CPU mode (`torch_modes.py`: eager fp32,
# channels_last fp32, bf16 autocast with channels_last, torch.compile fp32
# and bf16), interleaved, two rounds, in one sitting:
#
#     bench/training-vs-pytorch.sh PYTHON [MODES]
#
# PYTHON has torch (see ../shared/bench/peers/README.md); MODES is
# torch_modes.py's --modes (default: every mode).
set -euo pipefail
cd "$(dirname "$0")/.."
python="$1"
modes="${2:-eager,cl,bf16,compile,compile_bf16}"
peers="${SPECC_PEERS:-../shared/bench/peers}"
specc=(cargo run --quiet --release -p specc-cli --)
for round in 1 2; do
    echo "== round $round"
    for spec in mnist_cnn tf_cnn mlp; do "${specc[@]}" check "specs/$spec.spec" >/dev/null; done
    for spec in mnist_cnn tf_cnn mlp; do
        for precision in f32 bf16; do
            printf 'specc %s %s ' "$spec" "$precision"
            "${specc[@]}" bench "specs/$spec.spec" --quiet-build --precision "$precision" --seconds 2 |
                grep "training, batch 128" | sed 's/  */ /g'
        done
    done
    "$python" "$peers/torch_modes.py" --modes "$modes"
done
