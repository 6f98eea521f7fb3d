"""Runs an ONNX file exported by `specc export --onnx` in onnxruntime.

    python run.py MODEL.onnx INPUTS.bin BATCH DIM...

checks the model with onnx's full checker (types and shapes inferred
through every node), runs the raw little-endian f32 samples of INPUTS.bin
(BATCH samples of shape DIM...) and prints each output row as
`onnx i: v v ...` (repr of float32, which reads back as the same value).
Used by tests/tests/export.rs; .ci/run installs onnx and onnxruntime.
"""

import sys

import numpy as np
import onnx
import onnxruntime as ort


def main() -> None:
    path, inputs, batch, *dims = sys.argv[1:]
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    names = [n.name for n in model.graph.node]
    print("nodes: " + " ".join(names))
    print("opset: " + str(model.opset_import[0].version))
    x = np.fromfile(inputs, dtype="<f4").reshape([int(batch)] + [int(d) for d in dims])
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    (y,) = session.run(["output"], {"input": x})
    for i, row in enumerate(y.reshape(int(batch), -1)):
        print(f"onnx {i}: " + " ".join(repr(float(v)) for v in row))


if __name__ == "__main__":
    main()
