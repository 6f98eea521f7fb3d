// Drives the drawing page in headless Chromium: serves SITE on localhost,
// draws a stroke, reads the page's 28x28 input and prediction, writes the
// input as an IDX file (OUT/drawn.idx), the prediction (OUT/page.json) and
// a screenshot (OUT/screenshot.png).
//
//     node draw.mjs SITE OUT
import { createServer } from "node:http";
import { readFile, writeFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { chromium } from "playwright-core";

const [site, out] = process.argv.slice(2);
const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
const server = createServer(async (req, res) => {
  const path = join(site, req.url === "/" ? "index.html" : req.url.slice(1));
  try {
    const body = await readFile(path);
    res.writeHead(200, { "content-type": types[extname(path)] ?? "application/octet-stream" });
    res.end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const url = `http://127.0.0.1:${server.address().port}/`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 900, height: 520 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForSelector("body[data-ready=yes]", { timeout: 20000 });
  const box = await page.locator("#pad").boundingBox();
  // A seven: the bar, then the stem.
  const stroke = [[70, 60], [210, 60], [200, 90], [150, 170], [120, 240]];
  await page.mouse.move(box.x + stroke[0][0], box.y + stroke[0][1]);
  await page.mouse.down();
  for (const [x, y] of stroke.slice(1)) {
    await page.mouse.move(box.x + x, box.y + y, { steps: 12 });
  }
  await page.mouse.up();
  await page.waitForFunction(() => window.specc && window.specc.input);
  const result = await page.evaluate(() => window.specc);
  const answer = await page.locator("#answer").textContent();
  await page.screenshot({ path: join(out, "screenshot.png") });
  if (errors.length) throw new Error(errors.join("\n"));
  const idx = Buffer.alloc(16 + 784);
  idx.writeUInt32BE(0x00000803, 0);
  idx.writeUInt32BE(1, 4);
  idx.writeUInt32BE(28, 8);
  idx.writeUInt32BE(28, 12);
  result.input.forEach((v, i) => { idx[16 + i] = Math.round(v * 255); });
  await writeFile(join(out, "drawn.idx"), idx);
  await writeFile(join(out, "page.json"), JSON.stringify({ class: result.class, probabilities: result.probabilities, answer }));
  console.log(`page: class ${result.class}, shown as "${answer}"`);
} finally {
  await browser.close();
  server.close();
}
