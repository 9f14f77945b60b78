// The dashboard in real headless Chromium (Debian's, driven by Playwright) against a running
// `campustwin serve`: node test/dashboard.mjs BASE_URL TOKEN SCREENSHOT_DIR
//
// Checks what an operator relies on: the page loads without console errors, live numbers
// appear and change, every chart draws data, the plant diagram shows every CDU, an alarm
// cannot be acknowledged without the token and can with it, a what-if started from the
// page shows its result. Writes a screenshot of each view to SCREENSHOT_DIR and prints
// one JSON line of figures (first paint) at the end. Exits 1 on the first failure.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, token, shots] = process.argv.slice(2);
if (!base || !token || !shots) {
  console.error("usage: node test/dashboard.mjs BASE_URL TOKEN SCREENSHOT_DIR");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

const CHROMIUM_FLAGS = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const number = (text) => Number(String(text).replaceAll(",", ""));

async function apiJson(path) {
  const r = await fetch(`${base}/api/v1${path}`);
  check(r.ok, `GET ${path}: ${r.status}`);
  return r.json();
}

/** Waits until every chart in `ids` has a series with at least two points. */
async function chartsDrawn(page, ids, timeout = 60000) {
  await page.waitForFunction(
    (wanted) => {
      const charts = window.campustwinCharts?.() ?? {};
      return wanted.every((id) => charts[id]?.some((n) => n >= 2));
    },
    ids,
    { timeout, polling: 250 },
  ).catch(async () => {
    const charts = await page.evaluate(() => window.campustwinCharts?.());
    throw new Error(`charts without data: wanted ${ids.join(", ")}; have ${JSON.stringify(charts)}`);
  });
}

async function show(page, view) {
  await page.click(`nav a[data-view="${view}"]`);
  await page.waitForSelector(`section#${view}:not([hidden])`);
  await page.evaluate(() => window.scrollTo(0, 0));
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: CHROMIUM_FLAGS, // Playwright gives it a new, empty profile directory
  });
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, colorScheme: "dark" });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  page.on("pageerror", (e) => consoleErrors.push(`page error: ${e.message}`));
  const campus = await apiJson("/campus");
  const figures = {};

  // Load, first paint, live numbers.
  await page.goto(`${base}/`);
  // The sticky header would repeat over full-page screenshots.
  await page.addStyleTag({ content: "header { position: static; }" });
  figures.first_contentful_paint_ms = await page.evaluate(async () => {
    for (let i = 0; i < 50; i++) {
      const p = performance.getEntriesByName("first-contentful-paint")[0];
      if (p) return p.startTime;
      await new Promise((r) => setTimeout(r, 100));
    }
    return null;
  });
  await page.waitForFunction(() => Number.isFinite(Number(document.querySelector('[data-field="import_kw"]').textContent)), null, { timeout: 20000 });
  for (const field of ["it_kw", "facility_kw", "pue", "dry_bulb_c"]) {
    const text = await page.textContent(`#overview [data-field="${field}"]`);
    check(Number.isFinite(number(text)), `overview ${field} is not a number: ${text}`);
  }
  check(await page.textContent("#link") === "live", "the link is not live");
  const readings = number(await page.textContent('[data-field="readings"]'));
  await page.waitForFunction((before) => {
    const now = Number(document.querySelector('[data-field="readings"]').textContent.replaceAll(",", ""));
    return now > before;
  }, readings, { timeout: 10000 });
  await chartsDrawn(page, ["chart-overview"]);

  // Plant: every CDU, each coloured by its margin; a CDU's series.
  await show(page, "plant");
  const cdus = campus.halls.reduce((a, h) => a + h.cdus, 0);
  check(await page.locator("#plant-diagram rect.cdu").count() === cdus, `the diagram does not show ${cdus} CDUs`);
  await page.waitForFunction(() => document.querySelectorAll("#plant-diagram rect.cdu.none").length === 0, null, { timeout: 20000 });
  await page.click('#plant-diagram rect[data-cdu="hall-a/1"]');
  await chartsDrawn(page, ["chart-plant-detail"]);
  await page.screenshot({ path: join(shots, "plant.png"), fullPage: true });

  // Forecast and plan: every chart draws.
  await show(page, "forecast");
  await chartsDrawn(page, ["chart-import", "chart-power", "chart-pue", "chart-battery", "chart-thermal", "chart-headroom"]);
  await page.screenshot({ path: join(shots, "forecast.png"), fullPage: true });
  await show(page, "plan");
  await chartsDrawn(page, ["chart-plan-gpus", "chart-plan-it"]);
  check(await page.locator("#job-table tbody tr").count() > 0, "the plan lists no jobs");
  await page.screenshot({ path: join(shots, "plan.png") });

  check(consoleErrors.length === 0, `console errors while loading: ${consoleErrors.join(" | ")}`);

  // Alarms: refused without the token, done with it. The service runs a failing pump.
  await show(page, "alarms");
  const row = page.locator("#alarm-table tbody tr.unacked").first();
  await row.waitFor({ timeout: 180000 });
  const id = await row.getAttribute("data-alarm");
  await row.locator("button[data-ack]").click();
  await page.waitForFunction(() => document.querySelector("#alarms-note").textContent.includes("needs the API token"), null, { timeout: 10000 });
  const refused = (await apiJson("/alarms")).alarms.find((a) => a.id === id);
  check(refused && refused.acknowledged_at === null, "an alarm was acknowledged without a token");
  // The refusal opens the token dialog; an operator types the token there.
  if (!(await page.isVisible("#token-dialog"))) await page.click("#token-button");
  await page.fill("#token-input", token);
  await page.click('#token-dialog button[value="save"]');
  await page.locator(`#alarm-table tbody tr[data-alarm="${id}"] button[data-ack]`).click();
  await page.waitForSelector(`#alarm-table tbody tr.acked[data-alarm="${id}"]`, { timeout: 10000 });
  const acked = (await apiJson("/alarms")).alarms.find((a) => a.id === id);
  check(acked?.acknowledged_at, "the acknowledgement did not reach the service");
  await page.screenshot({ path: join(shots, "alarms.png") });

  // What-if: a pump trip of a chosen CDU from the current state.
  await show(page, "whatif");
  await page.selectOption('#whatif-form select[name="kind"]', "cdu_pump_trip");
  await page.selectOption('#whatif-form select[name="hall"]', "hall-b");
  await page.selectOption('#whatif-form select[name="cdu"]', "3");
  await page.fill('#whatif-form input[name="at_min"]', "10");
  await page.fill('#whatif-form input[name="hours"]', "2");
  await page.click('#whatif-form button[type="submit"]');
  await page.waitForSelector("#whatif-result:not([hidden])", { timeout: 180000 });
  const throttle = await page.textContent('[data-field="first_throttle"]');
  check(throttle !== "–", "the what-if shows no time to first throttle");
  await chartsDrawn(page, ["chart-whatif-gpu", "chart-whatif-import", "chart-whatif-it", "chart-whatif-throttled"]);
  figures.whatif_first_throttle = throttle;
  await page.screenshot({ path: join(shots, "whatif.png"), fullPage: true });

  // The overview last (with the alarm seen), dark and light.
  await show(page, "overview");
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(shots, "overview.png") });
  await page.click("#theme");
  await chartsDrawn(page, ["chart-overview"]);
  await page.screenshot({ path: join(shots, "overview-light.png") });

  const late = consoleErrors.filter((e) => !e.includes("401"));
  check(late.length === 0, `console errors: ${late.join(" | ")}`);
  await browser.close();
  console.log(JSON.stringify(figures));
}

main().catch((e) => {
  console.error(`dashboard test failed: ${e.message}`);
  process.exit(1);
});
