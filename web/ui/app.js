// CampusTwin dashboard: one page over the service's API and its event stream.
//
// Data flow: the campus once (/campus); the live state from the event stream (`state`,
// about once a second, the same body as /state); the forecast, plan and alarms fetched
// again whenever the stream says they changed; history from /points/{id}/history. Every
// series kept here is bounded (a day of live points at most), so the page holds steady
// memory on a wall screen for weeks.
"use strict";

// ---------------------------------------------------------------------------------------
// Small helpers

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const secs = (iso) => Date.parse(iso) / 1000;
const MW = (kw) => (kw == null || !Number.isFinite(kw) ? null : kw / 1000);

/** A number for display with `digits` decimals, or an en dash when there is none. */
function fmt(v, digits = 1) {
  if (v == null || !Number.isFinite(v)) return "–";
  return v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function setField(name, text, root = document) {
  for (const el of $$(`[data-field="${name}"]`, root)) el.textContent = text;
}

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text != null) e.textContent = text;
  return e;
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text != null) e.textContent = text;
  return e;
}

function localTime(iso) {
  return new Date(iso).toLocaleString(undefined, { hour12: false });
}

// ---------------------------------------------------------------------------------------
// The API

const TOKEN_KEY = "campustwin.token";
const token = () => localStorage.getItem(TOKEN_KEY) || "";

function headers(extra = {}) {
  const h = { ...extra };
  if (token()) h.Authorization = `Bearer ${token()}`;
  return h;
}

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.field = body?.error?.field;
  }
}

async function api(path, options = {}) {
  const r = await fetch(`/api/v1${path}`, { ...options, headers: headers(options.headers) });
  const body = await r.json().catch(() => null);
  if (!r.ok) {
    if (r.status === 401 && !token()) openTokenDialog();
    throw new ApiError(r.status, body);
  }
  return body;
}

/** `GET path`, or null while the service has not published it yet (503). */
async function published(path) {
  try {
    return await api(path);
  } catch (e) {
    if (e.status === 503) return null;
    throw e;
  }
}

const post = (path, body) =>
  api(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: body == null ? undefined : JSON.stringify(body),
  });

/** Bucketed history of `point` from `fromS` (Unix seconds) to now: [[t_s], [value]]. */
async function history(point, fromS, stepS) {
  const from = new Date(fromS * 1000).toISOString();
  const page = await api(`/points/${encodeURIComponent(point)}/history?from=${from}&step=${stepS}&limit=100000`);
  return [page.rows.map((r) => secs(r.ts)), page.rows.map((r) => r.value)];
}

/** The values of several series on the union of their times (null where one has none). */
function align(series) {
  const times = [...new Set(series.flatMap(([t]) => t))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const columns = series.map(([t, v]) => {
    const column = new Array(times.length).fill(null);
    t.forEach((ti, i) => (column[index.get(ti)] = v[i]));
    return column;
  });
  return [times, ...columns];
}

// ---------------------------------------------------------------------------------------
// Charts (uPlot: fast with tens of thousands of points, hover values, drag to zoom,
// double-click to zoom out)

const PALETTE = ["#5aa0f0", "#2fb26a", "#e0a030", "#b07cf0", "#40c8c8", "#f07c9c", "#a0a8b4", "#d0d040"];
const charts = new Map();

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/**
 * Draws `data` ([x, ...ys]) in the element `id` with `series` ({label, unit, dash,
 * colour, scale}); later calls with the same series only replace the data.
 * `nowS` draws a "now" line between history and forecast.
 */
function drawChart(id, series, data, { nowS, yLabel, y2Label } = {}) {
  const root = document.getElementById(id);
  if (!root) return;
  const key = series.map((s) => s.label).join("|");
  const existing = charts.get(id);
  if (existing && existing.key === key) {
    existing.nowS = nowS;
    existing.plot.setData(data);
    return;
  }
  if (existing) existing.plot.destroy();
  const text = cssVar("--text");
  const grid = cssVar("--line");
  const axis = (label, side = 3, scale = "y") => ({
    scale, side, label, stroke: text, grid: { stroke: grid, width: 1, show: side === 3 }, ticks: { stroke: grid },
  });
  const entry = { key, nowS };
  const opts = {
    width: Math.max(root.clientWidth, 300),
    height: 260,
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: true } },
    axes: [{ stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } }, axis(yLabel)],
    series: [
      { label: "time", value: (u, v) => (v == null ? "–" : new Date(v * 1000).toLocaleString(undefined, { hour12: false })) },
      ...series.map((s, i) => ({
        label: s.unit ? `${s.label} (${s.unit})` : s.label,
        stroke: s.colour || PALETTE[i % PALETTE.length],
        width: s.width || 1.6,
        dash: s.dash,
        scale: s.scale || "y",
        spanGaps: false,
        // A series of a point or two (a service just started) shows as dots.
        points: { show: (u, si) => u.data[si].filter((v) => v != null).length < 3, size: 6 },
        value: (u, v) => fmt(v, s.digits ?? 2),
      })),
    ],
    hooks: {
      draw: [
        (u) => {
          if (entry.nowS == null) return;
          const x = u.valToPos(entry.nowS, "x", true);
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
          const ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = cssVar("--muted");
          ctx.setLineDash([4, 4]);
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
          ctx.restore();
        },
      ],
    },
  };
  if (series.some((s) => s.scale === "y2")) opts.axes.push(axis(y2Label, 1, "y2"));
  root.replaceChildren();
  entry.plot = new uPlot(opts, data, root);
  charts.set(id, entry);
}

/** Charts take their container's width; a hidden view's charts resize when it shows. */
function resizeCharts() {
  for (const [id, c] of charts) {
    const root = document.getElementById(id);
    if (root && root.offsetParent !== null && root.clientWidth > 0 && c.plot.width !== root.clientWidth) {
      c.plot.setSize({ width: root.clientWidth, height: 260 });
    }
  }
}

/** For the browser test and the curious: what each chart holds (points per series). */
window.campustwinCharts = () =>
  Object.fromEntries([...charts].map(([id, c]) => [id, c.plot.data.slice(1).map((col) => col.filter((v) => v != null).length)]));

function resetCharts() {
  for (const c of charts.values()) c.plot.destroy();
  charts.clear();
}

// ---------------------------------------------------------------------------------------
// What the page knows

const store = {
  campus: null,
  state: null,
  stateAt: 0, // when the last state arrived, ms (browser clock)
  forecast: null,
  plan: null,
  alarms: [],
  pueToday: null,
  // Live campus series for the overview: one point per LIVE_STEP_S, a day at most.
  live: { t: [], importMw: [], facilityMw: [], itMw: [] },
};
const LIVE_STEP_S = 5;
const LIVE_KEEP = (24 * 3600) / LIVE_STEP_S;

function latest(point) {
  return store.state?.latest?.[point]?.value ?? null;
}

function campusNow() {
  const halls = store.campus?.halls ?? [];
  const feeders = halls.map((h) => latest(`${h.name}/feeder/power_kw`));
  const itKw = feeders.every((v) => v != null) ? feeders.reduce((a, b) => a + b, 0) : null;
  const slot = store.forecast?.slots?.[0];
  return {
    importKw: latest("grid/import_kw"),
    limitKw: slot?.import_limit_kw ?? store.campus?.design?.import_limit_kw ?? null,
    facilityKw: latest("grid/facility/power_kw"),
    coolingKw: latest("plant/cooling/power_kw"),
    itKw,
    feeders,
  };
}

// ---------------------------------------------------------------------------------------
// The event stream, read with fetch (so that it can carry a token), reconnecting

const link = $("#link");
let streamUp = false;

function showLink() {
  const age = store.stateAt ? (Date.now() - store.stateAt) / 1000 : null;
  if (!streamUp) {
    link.dataset.state = "down";
    link.textContent = age == null ? "no connection" : `reconnecting · data ${fmt(age, 0)} s old`;
  } else if (age == null || age > 10) {
    link.dataset.state = "stale";
    link.textContent = age == null ? "waiting for data" : `stale · data ${fmt(age, 0)} s old`;
  } else {
    link.dataset.state = "live";
    link.textContent = "live";
  }
  document.body.classList.toggle("stale", link.dataset.state !== "live");
}

async function stream() {
  let backoffMs = 1000;
  for (;;) {
    try {
      const r = await fetch("/api/v1/events?kinds=state,alarm,forecast,plan", {
        headers: headers({ Accept: "text/event-stream" }),
      });
      if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => null));
      streamUp = true;
      backoffMs = 1000;
      showLink();
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          dispatch(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (e) {
      console.info("event stream:", e.message);
    }
    streamUp = false;
    showLink();
    await sleep(backoffMs);
    backoffMs = Math.min(backoffMs * 2, 10000);
    // What changed while away.
    refreshAll().catch(() => {});
  }
}

function dispatch(block) {
  let name = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) name = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  if (!data.length) return;
  let body;
  try {
    body = JSON.parse(data.join("\n"));
  } catch {
    return;
  }
  if (name === "state") onState(body);
  else if (name === "alarm") refreshAlarms().catch(() => {});
  else if (name === "forecast") refreshForecast().catch(() => {});
  else if (name === "plan") refreshPlan().catch(() => {});
}

function onState(state) {
  store.state = state;
  store.stateAt = Date.now();
  const now = campusNow();
  const t = secs(state.published_at);
  const live = store.live;
  if (!live.t.length || t - live.t[live.t.length - 1] >= LIVE_STEP_S) {
    live.t.push(t);
    live.importMw.push(MW(now.importKw));
    live.facilityMw.push(MW(now.facilityKw));
    live.itMw.push(MW(now.itKw));
    if (live.t.length > LIVE_KEEP) for (const k of Object.keys(live)) live[k].shift();
  }
  showLink();
  renderOverview();
  renderPlant();
}

// ---------------------------------------------------------------------------------------
// Overview

function renderOverview() {
  const n = campusNow();
  const design = store.campus?.design;
  setField("import_kw", fmt(MW(n.importKw)));
  setField("import_limit_kw", fmt(MW(n.limitKw)));
  setField("import_headroom_kw", fmt(MW(n.limitKw != null && n.importKw != null ? n.limitKw - n.importKw : null)));
  const share = n.limitKw ? n.importKw / n.limitKw : 0;
  const fill = $("#import-fill");
  fill.style.width = `${Math.min(Math.max(share, 0), 1) * 100}%`;
  fill.className = `fill ${share > 1 ? "bad" : share > 0.95 ? "warn" : ""}`;
  setField("it_kw", fmt(MW(n.itKw)));
  setField("it_design_kw", fmt(MW(design?.it_design_kw)));
  setField("facility_kw", fmt(MW(n.facilityKw)));
  setField("cooling_kw", fmt(MW(n.coolingKw)));
  setField("pue", n.itKw > 0 && n.facilityKw != null ? fmt(n.facilityKw / n.itKw, 3) : "–");
  setField("pue_today", fmt(store.pueToday, 3));
  const slot = store.forecast?.slots?.[0];
  const slotH = (store.forecast?.slot_minutes ?? 60) / 60;
  setField("wue", slot && slot.it_kw > 0 ? fmt(slot.water_l / (slot.it_kw * slotH), 2) : "–");
  const soc = latest("grid/battery/soc_frac");
  setField("soc", design?.battery_kwh > 0 ? fmt(soc == null ? null : soc * 100, 0) : "none");
  setField("battery_kw", fmt(MW(latest("grid/battery/power_kw")), 1));
  setField("engines_kw", fmt(MW(latest("grid/engines/power_kw"))));
  setField("engines_rated_kw", fmt(MW(design?.engines_kw)));
  setField("solar_kw", fmt(MW(latest("grid/solar/power_kw"))));
  setField("solar_rated_kw", fmt(MW(design?.solar_kw)));
  setField("dry_bulb_c", fmt(latest("weather/dry_bulb_temp_c")));
  setField("wet_bulb_c", fmt(latest("weather/wet_bulb_temp_c")));
  const s = store.state;
  setField("as_of", s?.as_of ? localTime(s.as_of) : "–");
  setField("readings", s ? s.readings.toLocaleString("en-US") : "–");
  drawOverviewChart(n);
}

function drawOverviewChart(n) {
  const l = store.live;
  if (!l.t.length) return;
  const limit = MW(n.limitKw);
  drawChart(
    "chart-overview",
    [
      { label: "Import", unit: "MW", digits: 1 },
      { label: "Facility", unit: "MW", digits: 1 },
      { label: "IT", unit: "MW", digits: 1 },
      { label: "Import limit", unit: "MW", colour: "#e5484d", dash: [6, 4], digits: 1 },
    ],
    [l.t, l.importMw, l.facilityMw, l.itMw, l.t.map(() => limit)],
    { yLabel: "MW" },
  );
}

/** Loads the overview's history (the last three hours) and today's PUE. */
async function loadOverviewHistory() {
  const halls = store.campus.halls;
  const nowS = Date.now() / 1000;
  const fromS = Math.floor(nowS - 3 * 3600);
  const [imp, fac, ...feeders] = await Promise.all([
    history("grid/import_kw", fromS, 60),
    history("grid/facility/power_kw", fromS, 60),
    ...halls.map((h) => history(`${h.name}/feeder/power_kw`, fromS, 60)),
  ]);
  const [t, importKw, facilityKw, ...feederKw] = align([imp, fac, ...feeders]);
  const itKw = t.map((_, i) => (feederKw.every((f) => f[i] != null) ? feederKw.reduce((a, f) => a + f[i], 0) : null));
  // Live points continue the history; keep both, history first.
  const l = store.live;
  const firstLive = l.t.length ? l.t[0] : Infinity;
  const keep = t.map((ti, i) => ti < firstLive - LIVE_STEP_S ? i : -1).filter((i) => i >= 0);
  l.t.unshift(...keep.map((i) => t[i]));
  l.importMw.unshift(...keep.map((i) => MW(importKw[i])));
  l.facilityMw.unshift(...keep.map((i) => MW(facilityKw[i])));
  l.itMw.unshift(...keep.map((i) => MW(itKw[i])));
  await loadPueToday();
  renderOverview();
}

async function loadPueToday() {
  const midnight = new Date();
  midnight.setHours(0, 0, 0, 0);
  const fromS = midnight.getTime() / 1000;
  const halls = store.campus.halls;
  const [fac, ...feeders] = await Promise.all([
    history("grid/facility/power_kw", fromS, 300),
    ...halls.map((h) => history(`${h.name}/feeder/power_kw`, fromS, 300)),
  ]);
  const [, facilityKw, ...feederKw] = align([fac, ...feeders]);
  let facility = 0;
  let it = 0;
  facilityKw.forEach((f, i) => {
    if (f == null || feederKw.some((x) => x[i] == null)) return;
    facility += f;
    it += feederKw.reduce((a, x) => a + x[i], 0);
  });
  store.pueToday = it > 0 ? facility / it : null;
}

// ---------------------------------------------------------------------------------------
// Plant: a diagram from the grid to the racks with live values

const MARGIN_OK_K = 10;
const MARGIN_WARN_K = 3;

function marginClass(m) {
  if (m == null || !Number.isFinite(m)) return "none";
  return m > MARGIN_OK_K ? "ok" : m > MARGIN_WARN_K ? "warn" : "bad";
}

let plantBuilt = false;

function buildPlant() {
  const campus = store.campus;
  const spec = campus.spec;
  const halls = campus.halls;
  const root = $("#plant-diagram");
  root.replaceChildren();
  const hallW = 270;
  const gap = 20;
  const grid = spec.grid ?? {};
  const sources = [["Utility", "import_mw", "MW import", "limit_mw", "MW limit"]];
  if (grid.engines) sources.push(["Engines", "engines_mw", "MW", null, null]);
  if (grid.solar) sources.push(["Solar PV", "solar_mw", "MW", null, null]);
  if (grid.battery) sources.push(["Battery", "battery_mw", "MW (+ out)", "soc_pct", "% charged"]);
  const width = Math.max(halls.length * (hallW + gap) + gap, sources.length * 230 + 300 + 2 * gap);
  const height = 640;
  root.setAttribute("viewBox", `0 0 ${width} ${height}`);

  const box = (x, y, w, h, title, fields, attrs = {}) => {
    const g = svg("g", attrs);
    g.append(svg("rect", { x, y, width: w, height: h, rx: 6, class: `box${attrs["data-click"] ? " clickable" : ""}` }));
    g.append(svg("text", { x: x + 10, y: y + 20, class: "muted" }, title));
    fields.forEach(([field, unit], i) => {
      const t = svg("text", { x: x + 10, y: y + 44 + i * 20, class: i === 0 ? "big" : "" });
      t.append(svg("tspan", { "data-live": field }, "–"));
      t.append(svg("tspan", { class: "muted", dx: 4 }, unit));
      g.append(t);
    });
    root.append(g);
    return g;
  };

  // Sources and the campus bus.
  const busY = 150;
  sources.forEach(([title, a, ua, b, ub], i) => {
    const x = gap + i * 230;
    box(x, 20, 210, 90, title, [[a, ua], ...(b ? [[b, ub]] : [])]);
    root.append(svg("path", { d: `M${x + 105} 110 V${busY}`, class: "wire" }));
  });
  const ups = spec.power?.ups;
  const tx = spec.power?.transformers;
  const chainX = gap + sources.length * 230;
  box(chainX, 20, 300, 90, "UPS and transformers", [["facility_mw", "MW facility"], ["losses_mw", "MW losses and auxiliary"]]);
  root.append(svg("text", { x: chainX + 150, y: 130, class: "muted", "text-anchor": "middle" },
    `${ups ? `${ups.units} UPS` : "no UPS"} · ${tx ? `${tx.units} transformers` : "no transformers"}`));
  root.append(svg("path", { d: `M${chainX + 150} 110 V${busY}`, class: "wire" }));
  root.append(svg("path", { d: `M${gap} ${busY} H${width - gap}`, class: "wire" }));

  // Halls with their CDUs.
  const hallY = 190;
  const hallH = 250;
  halls.forEach((h, i) => {
    const x = gap + i * (hallW + gap);
    root.append(svg("path", { d: `M${x + hallW / 2} ${busY} V${hallY}`, class: "wire" }));
    box(x, hallY, hallW, hallH, `${h.name} · ${h.racks} racks · ${h.gpus.toLocaleString()} GPUs`,
      [[`hall:${h.name}:it_mw`, "MW IT"]], { "data-click": `hall:${h.name}` });
    const cols = 7;
    const size = 30;
    for (let k = 1; k <= h.cdus; k++) {
      const cx = x + 12 + ((k - 1) % cols) * (size + 6);
      const cy = hallY + 80 + Math.floor((k - 1) / cols) * (size + 22);
      const rect = svg("rect", {
        x: cx, y: cy, width: size, height: size, rx: 4, class: "cdu none",
        "data-cdu": `${h.name}/${k}`, "data-click": `cdu:${h.name}:${k}`,
      });
      rect.append(svg("title", {}, `${h.name} CDU ${k}`));
      root.append(rect);
      root.append(svg("text", { x: cx + size / 2, y: cy + size + 13, class: "muted", "text-anchor": "middle", "data-live": `cdu:${h.name}:${k}:margin` }, "–"));
    }
    root.append(svg("text", { x: x + 12, y: hallY + hallH - 16, class: "muted" }, "CDU tiles: K to throttle"));
  });

  // Facility water and heat rejection.
  const fwY = hallY + hallH + 40;
  root.append(svg("path", { d: `M${gap} ${fwY} H${width - gap}`, class: "pipe-cold" }));
  root.append(svg("path", { d: `M${gap} ${fwY + 12} H${width - gap}`, class: "pipe-hot" }));
  halls.forEach((_, i) => {
    const x = gap + i * (hallW + gap) + hallW / 2;
    root.append(svg("path", { d: `M${x - 8} ${hallY + hallH} V${fwY}`, class: "pipe-cold" }));
    root.append(svg("path", { d: `M${x + 8} ${hallY + hallH} V${fwY + 12}`, class: "pipe-hot" }));
  });
  const rej = spec.heat_rejection ?? {};
  const plantY = fwY + 40;
  const plantBoxes = [["Facility water", [["fw_supply_c", "°C supply"], ["fw_return_c", "°C return"], ["fw_flow", "m³/h"]]]];
  if (rej.cooling_towers) plantBoxes.push([`Cooling towers · ${rej.cooling_towers.cells} cells`, [["fan_pct", "% fan speed"], ["wet_bulb_c", "°C wet bulb"]]]);
  if (rej.dry_coolers) plantBoxes.push(["Dry coolers", [["fan_pct", "% fan speed"], ["dry_bulb_c", "°C dry bulb"]]]);
  if (rej.chillers) plantBoxes.push([`Chillers · ${rej.chillers.count} trim`, [["chillers_mw", "MW electric"]]]);
  plantBoxes.push(["Cooling, all", [["cooling_mw", "MW electric"]]]);
  plantBoxes.forEach(([title, fields], i) => {
    const x = gap + i * 230;
    root.append(svg("path", { d: `M${x + 105} ${fwY + 12} V${plantY}`, class: "pipe-hot" }));
    box(x, plantY, 210, 40 + fields.length * 22, title, fields);
  });

  root.addEventListener("click", (e) => {
    const target = e.target.closest("[data-click]");
    if (target) showPlantDetail(target.getAttribute("data-click")).catch(showError);
  });
  plantBuilt = true;
}

function renderPlant() {
  if (!store.campus) return;
  if (!plantBuilt) buildPlant();
  const n = campusNow();
  const values = {
    import_mw: fmt(MW(n.importKw)),
    limit_mw: fmt(MW(n.limitKw)),
    engines_mw: fmt(MW(latest("grid/engines/power_kw"))),
    solar_mw: fmt(MW(latest("grid/solar/power_kw"))),
    battery_mw: fmt(MW(latest("grid/battery/power_kw"))),
    soc_pct: fmt((latest("grid/battery/soc_frac") ?? NaN) * 100, 0),
    facility_mw: fmt(MW(n.facilityKw)),
    losses_mw: fmt(MW(n.facilityKw != null && n.itKw != null && n.coolingKw != null ? n.facilityKw - n.itKw - n.coolingKw : null)),
    fw_supply_c: fmt(latest("plant/fw_supply_temp_c")),
    fw_return_c: fmt(latest("plant/fw_return_temp_c")),
    fw_flow: fmt((latest("plant/fw_flow_l_per_min") ?? NaN) * 0.06, 0),
    fan_pct: fmt((latest("plant/tower/fan_speed_frac") ?? NaN) * 100, 0),
    wet_bulb_c: fmt(latest("weather/wet_bulb_temp_c")),
    dry_bulb_c: fmt(latest("weather/dry_bulb_temp_c")),
    chillers_mw: fmt(MW(latest("plant/chillers/power_kw")), 2),
    cooling_mw: fmt(MW(n.coolingKw), 2),
  };
  store.campus.halls.forEach((h, i) => (values[`hall:${h.name}:it_mw`] = fmt(MW(n.feeders[i]))));
  for (const loop of store.state?.loops ?? []) {
    const m = loop.throttle_margin_k;
    values[`cdu:${loop.hall}:${loop.cdu}:margin`] = fmt(m, 0);
    const rect = $(`#plant-diagram [data-cdu="${loop.hall}/${loop.cdu}"]`);
    if (rect) {
      rect.setAttribute("class", `cdu ${marginClass(m)}`);
      rect.firstChild.textContent =
        `${loop.hall} CDU ${loop.cdu}: hottest GPU ${fmt(loop.hottest_gpu_c)} °C, ${fmt(m)} K to throttle; ` +
        `supply ${fmt(loop.supply_temp_c)} °C, return ${fmt(loop.return_temp_c)} °C, flow ${fmt(loop.flow_frac * 100, 0)} % of design`;
    }
  }
  for (const t of $$("#plant-diagram [data-live]")) {
    const v = values[t.getAttribute("data-live")];
    if (v != null) t.textContent = v;
  }
}

/** Bucket of the plant's detail charts: three hours in about a thousand points. */
const DETAIL_STEP_S = 10;
/** The CDU or hall whose series the plant view shows, refreshed while it shows. */
let plantDetail = null;

async function showPlantDetail(what, { scroll = true } = {}) {
  plantDetail = what;
  const [kind, hall, cdu] = what.split(":");
  const fromS = Date.now() / 1000 - 3 * 3600;
  $("#plant-detail").hidden = false;
  if (kind === "cdu") {
    const base = `${hall}/cdu-${String(cdu).padStart(2, "0")}`;
    $("#plant-detail-title").textContent = `${hall} CDU ${cdu}: rack loop, last 3 hours`;
    const [s, r, f] = await Promise.all(
      ["tcs_supply_temp_c", "tcs_return_temp_c", "tcs_flow_l_per_min"].map((p) => history(`${base}/${p}`, fromS, DETAIL_STEP_S)),
    );
    drawChart(
      "chart-plant-detail",
      [
        { label: "Supply", unit: "°C" },
        { label: "Return", unit: "°C" },
        { label: "Flow", unit: "L/min", scale: "y2", digits: 0 },
      ],
      align([s, r, f]),
      { yLabel: "°C", y2Label: "L/min" },
    );
  } else {
    $("#plant-detail-title").textContent = `${hall}: feeder power, last 3 hours`;
    const [t, v] = await history(`${hall}/feeder/power_kw`, fromS, DETAIL_STEP_S);
    drawChart("chart-plant-detail", [{ label: "IT power", unit: "MW" }], [t, v.map(MW)], { yLabel: "MW" });
  }
  if (scroll) $("#plant-detail").scrollIntoView({ block: "nearest" });
}

// ---------------------------------------------------------------------------------------
// Forecast: history and forecast on one axis

async function refreshForecast() {
  const forecast = await published("/forecast");
  if (!forecast) return;
  store.forecast = forecast;
  renderOverview();
  await renderForecast();
}

async function renderForecast() {
  const f = store.forecast;
  if (!f || !store.campus) return;
  const inputs = f.inputs;
  $("#forecast-meta").textContent =
    `Forecast ${f.id}, issued ${localTime(f.issued_at)}: ${f.slots.length} slots of ${f.slot_minutes} min; ` +
    `plan ${inputs.plan_status}, ${inputs.jobs} jobs; solve ${fmt(inputs.solve_s, 2)} s, simulation ${fmt(inputs.simulate_s, 2)} s` +
    (inputs.degraded_loops?.length ? `; degraded loops: ${inputs.degraded_loops.map((l) => `${l.hall}/${l.cdu} at ${fmt(l.flow_frac * 100, 0)} %`).join(", ")}` : "");
  const nowS = Date.now() / 1000;
  const fromS = Math.floor(nowS - 6 * 3600);
  const halls = store.campus.halls;
  const [imp, fac, soc, ...feeders] = await Promise.all([
    history("grid/import_kw", fromS, 60),
    history("grid/facility/power_kw", fromS, 60),
    history("grid/battery/soc_frac", fromS, 60),
    ...halls.map((h) => history(`${h.name}/feeder/power_kw`, fromS, 60)),
  ]);
  const ft = f.slots.map((s) => secs(s.start));
  const slot = (key, scale = 1) => [ft, f.slots.map((s) => (s[key] == null ? null : s[key] * scale))];
  const scaled = ([t, v], k) => [t, v.map((x) => (x == null ? null : x * k))];
  const [ht, ...fd] = align(feeders);
  const itHist = [ht, ht.map((_, i) => (fd.every((c) => c[i] != null) ? fd.reduce((a, c) => a + c[i], 0) : null))];
  const facAligned = align([fac, itHist]);
  const pueHist = [facAligned[0], facAligned[0].map((_, i) => (facAligned[1][i] != null && facAligned[2][i] > 0 ? facAligned[1][i] / facAligned[2][i] : null))];

  drawChart("chart-import", [
    { label: "Import, measured", unit: "MW", colour: PALETTE[0] },
    { label: "Import, forecast", unit: "MW", dash: [5, 3], colour: PALETTE[0] },
    { label: "Limit", unit: "MW", colour: "#e5484d", dash: [6, 4] },
  ], align([scaled(imp, 1e-3), slot("import_kw", 1e-3), slot("import_limit_kw", 1e-3)]), { nowS, yLabel: "MW" });
  drawChart("chart-power", [
    { label: "IT, measured", unit: "MW", colour: PALETTE[0] },
    { label: "Facility, measured", unit: "MW", colour: PALETTE[1] },
    { label: "IT, forecast", unit: "MW", dash: [5, 3], colour: PALETTE[0] },
    { label: "Facility, forecast", unit: "MW", dash: [5, 3], colour: PALETTE[1] },
  ], align([scaled(itHist, 1e-3), scaled(fac, 1e-3), slot("it_kw", 1e-3), slot("facility_kw", 1e-3)]), { nowS, yLabel: "MW" });
  drawChart("chart-pue", [
    { label: "PUE, measured", digits: 3, colour: PALETTE[0] },
    { label: "PUE, forecast", dash: [5, 3], digits: 3, colour: PALETTE[0] },
  ], align([pueHist, slot("pue")]), { nowS });
  drawChart("chart-battery", [
    { label: "Charge, measured", unit: "%", digits: 0, colour: PALETTE[1] },
    { label: "Charge, forecast", unit: "%", dash: [5, 3], digits: 0, colour: PALETTE[1] },
  ], align([scaled(soc, 100), slot("battery_soc_frac", 100)]), { nowS, yLabel: "%" });
  drawChart("chart-thermal", f.halls.flatMap((h, i) => [
    { label: `${h.id} hottest GPU`, unit: "°C", colour: PALETTE[i % PALETTE.length] },
    { label: `${h.id} TCS supply`, unit: "°C", colour: PALETTE[i % PALETTE.length], dash: [3, 3] },
  ]), [ft, ...f.halls.flatMap((h) => [h.hottest_gpu_c, h.tcs_supply_c])], { nowS, yLabel: "°C" });
  drawChart("chart-headroom", f.halls.map((h) => ({ label: h.id, unit: "MW" })),
    [ft, ...f.halls.map((h) => h.cooling_headroom_kw.map(MW))], { nowS, yLabel: "MW" });
  await renderAccuracy();
}

async function renderAccuracy() {
  const report = await api("/forecast/accuracy");
  const table = $("#accuracy");
  const g = report.guideline_14;
  table.tHead.innerHTML = "";
  const head = table.tHead.insertRow();
  for (const h of ["Quantity", "Measured by", "Pairs", "MAPE %", `CV(RMSE) % (hourly limit ${g.hourly_cv_rmse_pct})`, `NMBE % (hourly limit ±${g.hourly_nmbe_pct})`]) {
    head.append(el("th", {}, h));
  }
  const body = table.tBodies[0];
  body.replaceChildren();
  for (const q of report.quantities) {
    const row = body.insertRow();
    const s = q.overall;
    for (const [v, cls] of [[q.quantity], [q.point], [s.pairs, "num"], [fmt(s.mape_pct, 1), "num"], [fmt(s.cv_rmse_pct, 1), "num"], [fmt(s.nmbe_pct, 1), "num"]]) {
      row.append(el("td", cls ? { class: cls } : {}, String(v)));
    }
  }
  if (!report.quantities.length) {
    body.insertRow().append(el("td", { colspan: 6 }, "No forecast has been scored yet: scoring needs measured values for slots that have passed."));
  }
}

// ---------------------------------------------------------------------------------------
// Alarms

async function refreshAlarms() {
  const answer = await api("/alarms");
  store.alarms = answer.alarms;
  renderAlarms();
}

function renderAlarms() {
  const alarms = [...store.alarms].reverse();
  const unacked = alarms.filter((a) => !a.acknowledged_at).length;
  setField("alarms_active", String(alarms.length));
  setField("alarms_unacked", String(unacked));
  $("#tile-alarms").classList.toggle("alert", unacked > 0);
  const badge = $("#alarm-badge");
  badge.hidden = unacked === 0;
  badge.textContent = String(unacked);
  const body = $("#alarm-table").tBodies[0];
  body.replaceChildren();
  for (const a of alarms) {
    const row = body.insertRow();
    row.className = a.acknowledged_at ? "acked" : "unacked";
    row.dataset.alarm = a.id;
    for (const v of [localTime(a.at), a.kind.replaceAll("_", " "), a.subject, a.message]) row.append(el("td", {}, v));
    const cell = el("td");
    if (a.acknowledged_at) cell.textContent = localTime(a.acknowledged_at);
    else {
      const b = el("button", { type: "button", "data-ack": a.id }, "Acknowledge");
      b.addEventListener("click", () => acknowledge(a.id));
      cell.append(b);
    }
    row.append(cell);
  }
  if (!alarms.length) body.insertRow().append(el("td", { colspan: 5 }, "No alarms."));
}

async function acknowledge(id) {
  const note = $("#alarms-note");
  try {
    await post(`/alarms/${encodeURIComponent(id)}/acknowledge`);
    note.textContent = "";
    note.classList.remove("error");
    await refreshAlarms();
  } catch (e) {
    note.classList.add("error");
    note.textContent = e.status === 401
      ? "Acknowledging needs the API token: set it with the Token button."
      : `Could not acknowledge: ${e.message}`;
  }
}

// ---------------------------------------------------------------------------------------
// Plan

async function refreshPlan() {
  const plan = await published("/plan");
  if (!plan) return;
  store.plan = plan;
  renderPlan();
}

function renderPlan() {
  const p = store.plan;
  if (!p) return;
  const unmet = p.jobs.reduce((a, j) => a + j.unmet_gpu_hours, 0);
  $("#plan-meta").textContent =
    `Plan ${p.status}: ${p.jobs.length} jobs, ${fmt(unmet, 0)} GPU·h of work unmet; expected cost ${fmt(p.expected_cost, 0)}; ` +
    `peak import ${fmt(MW(p.peak_import_kw))} MW; solved by ${p.stats.solver} in ${fmt(p.stats.solve_s, 2)} s`;
  const t = p.slot_start.map(secs);
  const nowS = Date.now() / 1000;
  drawChart("chart-plan-gpus", p.halls.map((h) => ({ label: h.id, digits: 0 })), [t, ...p.halls.map((h) => h.busy_gpus)], { nowS, yLabel: "GPUs" });
  drawChart("chart-plan-it", p.halls.map((h) => ({ label: h.id, unit: "MW" })), [t, ...p.halls.map((h) => h.it_kw.map(MW))], { nowS, yLabel: "MW" });
  const current = Math.max(0, t.findLastIndex((x) => x <= nowS));
  const hallColour = new Map(p.halls.map((h, k) => [h.id, PALETTE[k % PALETTE.length]]));
  const running = (j) => j.placements.some((pl) => pl.gpus[current] > 0.5);
  const jobs = [...p.jobs].sort((a, b) => running(b) - running(a) || b.unmet_gpu_hours - a.unmet_gpu_hours || a.id.localeCompare(b.id));
  const body = $("#job-table").tBodies[0];
  body.replaceChildren();
  for (const j of jobs) {
    const row = body.insertRow();
    const now = j.placements.filter((pl) => pl.gpus[current] > 0.5);
    const gpusNow = now.reduce((a, pl) => a + pl.gpus[current], 0);
    const peak = Math.max(0, ...t.map((_, k) => j.placements.reduce((a, pl) => a + pl.gpus[k], 0)));
    const caps = now.map((pl) => pl.power_cap_kw_per_gpu[current]).filter((c) => c != null);
    const finish = j.finish_slot == null ? "not in the horizon" : localTime(p.slot_start[j.finish_slot]);
    const halls = now.length ? now.map((pl) => pl.hall).join(", ") : j.placements.map((pl) => pl.hall).join(", ") || "not placed";
    const cells = [
      [j.id], [halls], [fmt(gpusNow, 0), "num"], [fmt(peak, 0), "num"],
      [caps.length ? fmt(Math.min(...caps) * 1000, 0) : "–", "num"],
      [fmt(j.work_done_gpu_hours, 0), "num"], [fmt(j.unmet_gpu_hours, 0), "num"], [finish],
    ];
    for (const [v, cls] of cells) row.append(el("td", cls ? { class: cls } : {}, String(v)));
    row.append(timeline(j, t.length, current, hallColour));
  }
}

/** One job across the horizon: a cell per slot, coloured by the hall giving it most GPUs. */
function timeline(job, slots, current, hallColour) {
  const w = 3;
  const cell = el("td");
  const strip = svg("svg", { width: slots * w, height: 14, class: "timeline" });
  for (let k = 0; k < slots; k++) {
    let best = null;
    for (const pl of job.placements) if (pl.gpus[k] > 0.5 && (!best || pl.gpus[k] > best.gpus[k])) best = pl;
    if (best) strip.append(svg("rect", { x: k * w, y: 2, width: w, height: 10, fill: hallColour.get(best.hall) }));
  }
  strip.append(svg("rect", { x: current * w, y: 0, width: 1, height: 14, class: "now" }));
  cell.append(strip);
  return cell;
}

// ---------------------------------------------------------------------------------------
// What-if

function setUpWhatIf() {
  const form = $("#whatif-form");
  const halls = store.campus.halls;
  const hallSelect = form.elements.hall;
  hallSelect.replaceChildren(...halls.map((h) => el("option", { value: h.name }, h.name)));
  const fillCdus = () => {
    const h = halls.find((x) => x.name === hallSelect.value);
    form.elements.cdu.replaceChildren(...Array.from({ length: h?.cdus ?? 0 }, (_, i) => el("option", { value: i + 1 }, String(i + 1))));
  };
  hallSelect.addEventListener("change", fillCdus);
  fillCdus();
  const showFields = () => {
    for (const label of $$("label[data-for]", form)) label.hidden = label.dataset.for !== form.elements.kind.value;
  };
  form.elements.kind.addEventListener("change", showFields);
  showFields();
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    runWhatIf(form).catch(showError);
  });
}

function whatIfEvent(form) {
  const v = (name) => Number(form.elements[name].value);
  const kind = form.elements.kind.value;
  const event = { kind, at_s: v("at_min") * 60 };
  if (v("duration_min") > 0) event.duration_s = v("duration_min") * 60;
  if (kind === "cdu_pump_trip") Object.assign(event, { hall: form.elements.hall.value, cdu: v("cdu"), residual_flow_frac: v("residual_flow_frac") });
  if (kind === "tower_fan_failure") event.cells = v("cells");
  if (kind === "chiller_trip") event.chillers = v("chillers");
  if (kind === "import_limit_drop") event.import_limit_kw = v("import_limit_mw") * 1000;
  if (kind === "load_change") event.utilisation_factor = v("utilisation_factor");
  return event;
}

async function runWhatIf(form) {
  const status = $("#whatif-status");
  status.classList.remove("error");
  status.textContent = "Starting…";
  let started;
  try {
    started = await post("/whatif", { hours: Number(form.elements.hours.value), events: [whatIfEvent(form)] });
  } catch (e) {
    status.classList.add("error");
    status.textContent = e.status === 401
      ? "Running a what-if needs the API token: set it with the Token button."
      : `Refused${e.field ? ` (${e.field})` : ""}: ${e.message}`;
    return;
  }
  const t0 = Date.now();
  for (;;) {
    const run = await api(`/whatif/${encodeURIComponent(started.id)}`);
    if (run.status === "done") return showWhatIf(run);
    if (run.status === "failed") {
      status.classList.add("error");
      status.textContent = `The run failed: ${run.error}`;
      return;
    }
    status.textContent = `Running ${started.id}… ${fmt((Date.now() - t0) / 1000, 0)} s`;
    await sleep(500);
  }
}

function showWhatIf(run) {
  const status = $("#whatif-status");
  status.textContent = `Run ${run.id}, asked for at ${localTime(run.requested_at)}: done.`;
  $("#whatif-result").hidden = false;
  $("#whatif-charts").hidden = false;
  const f = run.forecast;
  // The forecast it started from runs longer: compare over the what-if's horizon.
  const end = secs(f.slots[f.slots.length - 1].start);
  const b = { ...run.baseline, slots: run.baseline.slots.filter((s) => secs(s.start) <= end) };
  const max = (slots, key) => Math.max(...slots.map((s) => s[key]));
  setField("first_throttle", run.first_throttle_s == null ? "none" : `${fmt(run.first_throttle_s / 60, 1)} min`);
  setField("whatif_max_gpu", fmt(max(f.slots, "max_gpu_temp_c")));
  setField("base_max_gpu", fmt(max(b.slots, "max_gpu_temp_c")));
  setField("whatif_peak_import", fmt(MW(max(f.slots, "import_kw"))));
  setField("base_peak_import", fmt(MW(max(b.slots, "import_kw"))));
  setField("whatif_throttled", fmt(max(f.slots, "throttled_gpus"), 0));
  setField("base_throttled", fmt(max(b.slots, "throttled_gpus"), 0));
  const pair = (key, scale = 1) => align([
    [f.slots.map((s) => secs(s.start)), f.slots.map((s) => s[key] * scale)],
    [b.slots.map((s) => secs(s.start)), b.slots.map((s) => s[key] * scale)],
  ]);
  const labels = (unit, digits = 1) => [
    { label: "With the scenario", unit, colour: "#e5484d", digits },
    { label: "Without", unit, colour: PALETTE[0], dash: [5, 3], digits },
  ];
  drawChart("chart-whatif-gpu", labels("°C"), pair("max_gpu_temp_c"), { yLabel: "°C" });
  drawChart("chart-whatif-import", labels("MW"), pair("import_kw", 1e-3), { yLabel: "MW" });
  drawChart("chart-whatif-it", labels("MW"), pair("it_kw", 1e-3), { yLabel: "MW" });
  drawChart("chart-whatif-throttled", labels("GPUs", 0), pair("throttled_gpus"), { yLabel: "GPUs" });
}

// ---------------------------------------------------------------------------------------
// Views, token, theme, start

function showView() {
  const view = (location.hash || "#overview").slice(1);
  for (const s of $$("main > section")) s.hidden = s.dataset.view !== view;
  for (const a of $$("nav a")) a.classList.toggle("active", a.dataset.view === view);
  requestAnimationFrame(resizeCharts);
}

function openTokenDialog() {
  const dialog = $("#token-dialog");
  if (dialog.open) return;
  $("#token-input").value = token();
  dialog.showModal();
}

function setUpChrome() {
  window.addEventListener("hashchange", showView);
  window.addEventListener("resize", resizeCharts);
  $("#token-button").addEventListener("click", openTokenDialog);
  $("#token-dialog").addEventListener("close", () => {
    const d = $("#token-dialog");
    if (d.returnValue === "save") localStorage.setItem(TOKEN_KEY, $("#token-input").value.trim());
    if (d.returnValue === "clear") localStorage.removeItem(TOKEN_KEY);
  });
  const saved = localStorage.getItem("campustwin.theme");
  if (saved) document.documentElement.dataset.theme = saved;
  else if (matchMedia("(prefers-color-scheme: light)").matches) document.documentElement.dataset.theme = "light";
  $("#theme").addEventListener("click", () => {
    const next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    localStorage.setItem("campustwin.theme", next);
    resetCharts(); // charts take their colours from the theme
    renderOverview();
    renderForecast().catch(showError);
    renderPlan();
  });
  setInterval(() => {
    $("#clock").textContent = new Date().toLocaleTimeString(undefined, { hour12: false });
    showLink();
  }, 1000);
}

function showError(e) {
  console.warn(e);
  $("#footer-note").textContent = `Last error: ${e.message}`;
}

async function refreshAll() {
  await Promise.all([refreshForecast(), refreshPlan(), refreshAlarms()]);
}

async function main() {
  setUpChrome();
  showView();
  for (;;) {
    try {
      store.campus = await api("/campus");
      break;
    } catch (e) {
      showError(e);
      await sleep(2000);
    }
  }
  $("#campus-name").textContent = store.campus.name;
  document.title = `CampusTwin · ${store.campus.name}`;
  setUpWhatIf();
  stream();
  try {
    const state = await api("/state");
    onState(state);
  } catch (e) {
    if (e.status !== 503) showError(e);
  }
  await refreshAll().catch(showError);
  await loadOverviewHistory().catch(showError);
  setInterval(() => loadPueToday().then(renderOverview).catch(showError), 5 * 60 * 1000);
  setInterval(() => refreshAlarms().catch(showError), 15 * 1000);
  setInterval(() => {
    if (plantDetail && !$("#plant").hidden) showPlantDetail(plantDetail, { scroll: false }).catch(showError);
  }, DETAIL_STEP_S * 1000);
}

main();
