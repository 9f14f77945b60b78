// The dashboard's speed and memory in headless Chromium, against a running serve:
//   node bench/dashboard/run.mjs BASE_URL [--loads N] [--minutes M] [--shots DIR]
// First paint: N fresh loads of `/` (a new browser context each, nothing cached), the
// median and worst first-contentful-paint and time to the first live number.
// Memory: one page left open on the overview for M minutes with the event stream
// flowing; every minute a forced garbage collection, then the JS heap, DOM nodes and
// listeners from Chromium's Performance domain (CDP).
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "../../web/ui/package.json"));
const { chromium } = require("playwright-core");

const args = process.argv.slice(2);
const base = args[0];
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const loads = Number(option("--loads", 20));
const minutes = Number(option("--minutes", 30));
const shots = option("--shots", null);
if (!base) {
  console.error("usage: node bench/dashboard/run.mjs BASE_URL [--loads N] [--minutes M] [--shots DIR]");
  process.exit(2);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

const paints = [];
const firstNumbers = [];
for (let i = 0; i < loads; i++) {
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  const page = await context.newPage();
  const t0 = Date.now();
  await page.goto(`${base}/`);
  await page.waitForFunction(() => Number.isFinite(Number(document.querySelector('[data-field="import_kw"]').textContent)));
  firstNumbers.push(Date.now() - t0);
  paints.push(await page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN));
  await context.close();
}
console.log(`first paint over ${loads} loads: median ${median(paints).toFixed(0)} ms, worst ${Math.max(...paints).toFixed(0)} ms; ` +
  `first live number: median ${median(firstNumbers)} ms, worst ${Math.max(...firstNumbers)} ms`);

if (minutes > 0) {
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  const page = await context.newPage();
  await page.goto(`${base}/`);
  const cdp = await context.newCDPSession(page);
  await cdp.send("Performance.enable");
  const sample = async () => {
    await cdp.send("HeapProfiler.collectGarbage");
    const { metrics } = await cdp.send("Performance.getMetrics");
    const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
    return { heapMb: m.JSHeapUsedSize / 1e6, nodes: m.Nodes, listeners: m.JSEventListeners };
  };
  const samples = [];
  for (let minute = 0; minute <= minutes; minute++) {
    if (minute > 0) await page.waitForTimeout(60000);
    const s = await sample();
    samples.push(s);
    console.log(`minute ${minute}: JS heap ${s.heapMb.toFixed(2)} MB, ${s.nodes} DOM nodes, ${s.listeners} listeners`);
  }
  const first = samples[1] ?? samples[0];
  const last = samples[samples.length - 1];
  console.log(`memory over ${minutes} min (from minute 1): JS heap ${first.heapMb.toFixed(2)} -> ${last.heapMb.toFixed(2)} MB, ` +
    `DOM nodes ${first.nodes} -> ${last.nodes}, listeners ${first.listeners} -> ${last.listeners}`);
  if (shots) {
    for (const view of ["overview", "plant"]) {
      await page.click(`nav a[data-view="${view}"]`);
      await page.waitForTimeout(500);
      await page.screenshot({ path: join(shots, `after-${minutes}-min-${view}.png`) });
    }
  }
}
await browser.close();
