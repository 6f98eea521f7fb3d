// The drawing page: strokes on a 280x280 canvas become a 28x28 MNIST-style
// image (the ink's bounding box scaled to 20 pixels, centred by its centre
// of mass, values in [0, 1]), which the exported model classifies as the
// stroke is drawn. The model is `mnist_cnn.wasm`: the C ABI crate of
// `specc export`, whose functions are the module's exports.
const IN = 784, OUT = 10;
const bytes = await (await fetch("mnist_cnn.wasm")).arrayBuffer();
const { instance } = await WebAssembly.instantiate(bytes, {});
const wasm = instance.exports;
const align = (n) => Math.ceil(n / 64) * 64;
const inputAt = align(wasm.__heap_base.value);
const outputAt = align(inputAt + 4 * IN);
if (outputAt + 4 * OUT > wasm.memory.buffer.byteLength) wasm.memory.grow(1);
document.getElementById("size").textContent = `${(bytes.byteLength / 1e6).toFixed(2)} MB`;

const pad = document.getElementById("pad");
const ink = pad.getContext("2d", { willReadFrequently: true });
const bars = document.getElementById("bars");
const answer = document.getElementById("answer");
for (let k = 0; k < OUT; k++) {
  bars.insertAdjacentHTML("beforeend", `<div class="bar"><div class="fill"></div><div class="label">${k}</div></div>`);
}

function clear() {
  ink.fillStyle = "#000";
  ink.fillRect(0, 0, pad.width, pad.height);
  show(null);
}

// The canvas as MNIST's preprocessing would have it.
function image() {
  const { data } = ink.getImageData(0, 0, pad.width, pad.height);
  let [x0, y0, x1, y1] = [pad.width, pad.height, -1, -1];
  for (let y = 0; y < pad.height; y++) {
    for (let x = 0; x < pad.width; x++) {
      if (data[4 * (y * pad.width + x)] > 0) {
        x0 = Math.min(x0, x); x1 = Math.max(x1, x);
        y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
    }
  }
  const pixels = new Float32Array(IN);
  if (x1 < 0) return pixels;
  const side = Math.max(x1 - x0 + 1, y1 - y0 + 1);
  const [w, h] = [20 * (x1 - x0 + 1) / side, 20 * (y1 - y0 + 1) / side];
  const small = new OffscreenCanvas(28, 28).getContext("2d", { willReadFrequently: true });
  small.imageSmoothingQuality = "high";
  const place = (dx, dy) => {
    small.fillStyle = "#000";
    small.fillRect(0, 0, 28, 28);
    small.drawImage(pad, x0, y0, x1 - x0 + 1, y1 - y0 + 1, (28 - w) / 2 + dx, (28 - h) / 2 + dy, w, h);
    return small.getImageData(0, 0, 28, 28).data;
  };
  let px = place(0, 0);
  let [mass, mx, my] = [0, 0, 0];
  for (let i = 0; i < IN; i++) {
    const v = px[4 * i];
    mass += v; mx += v * (i % 28); my += v * Math.floor(i / 28);
  }
  px = place(Math.round(13.5 - mx / mass), Math.round(13.5 - my / mass));
  for (let i = 0; i < IN; i++) pixels[i] = px[4 * i] / 255;
  return pixels;
}

function show(result) {
  bars.querySelectorAll(".bar").forEach((bar, k) => {
    const p = result ? result.probabilities[k] : 0;
    bar.querySelector(".fill").style.height = `${(100 * p).toFixed(1)}%`;
    bar.classList.toggle("best", !!result && k === result.class);
    bar.title = `${k}: ${(100 * p).toFixed(2)}%`;
  });
  answer.textContent = result ? `${result.class} (${(100 * result.probabilities[result.class]).toFixed(1)}%)` : "";
  window.specc = result;
}

function predict() {
  const input = image();
  new Float32Array(wasm.memory.buffer, inputAt, IN).set(input);
  const rc = wasm.mnist_cnn_predict(inputAt, outputAt);
  if (rc !== 0) throw new Error(`mnist_cnn_predict returned ${rc}`);
  const probabilities = Array.from(new Float32Array(wasm.memory.buffer, outputAt, OUT));
  const best = probabilities.indexOf(Math.max(...probabilities));
  show({ input: Array.from(input), probabilities, class: best });
}

let drawing = false, queued = false;
const at = (e) => [e.offsetX, e.offsetY];
pad.addEventListener("pointerdown", (e) => {
  drawing = true;
  pad.setPointerCapture(e.pointerId);
  ink.strokeStyle = "#fff"; ink.lineWidth = 20; ink.lineCap = ink.lineJoin = "round";
  ink.beginPath(); ink.moveTo(...at(e)); ink.lineTo(...at(e)); ink.stroke();
});
pad.addEventListener("pointermove", (e) => {
  if (!drawing) return;
  ink.lineTo(...at(e)); ink.stroke();
  if (!queued) {
    queued = true;
    requestAnimationFrame(() => { queued = false; predict(); });
  }
});
pad.addEventListener("pointerup", () => { drawing = false; predict(); });
document.getElementById("clear").addEventListener("click", clear);
clear();
document.body.dataset.ready = "yes";
