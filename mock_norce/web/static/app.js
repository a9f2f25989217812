// mock-norce UI, plain JS, no build. In order: live regions (a part of the page refreshed from
// the server, keeping what the reader opened and where the keyboard focus is); the fire form's
// JSON preview and raw-JSON mode; countdowns (a delivery's next attempt, a run's wait); copy
// buttons (copy as cURL / body, the "Do this from code" snippets); a schedule's live figures and
// uPlot charts; and the confirmation of destructive forms.
// Only textContent and parsed server markup are inserted: never a subscriber's text as HTML.
"use strict";

function refreshLive(el) {
  const every = parseInt(el.dataset.live, 10);
  if (!every || !el.id) return;
  const tick = async () => {
    if (document.hidden) { setTimeout(tick, every); return; }
    try {
      const resp = await fetch(window.location.href, { headers: { "X-Live": "1" }, credentials: "same-origin" });
      if (!resp.ok) { setTimeout(tick, every * 2); return; }
      const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
      const fresh = doc.getElementById(el.id);
      if (!fresh) return;
      // What the reader opened or closed stays so: each <details> is known by its id (an
      // attempt's number), so a new attempt on top does not shift which one is open. Ones
      // the reader has not seen yet keep the server's default.
      const key = (d, i) => d.id || "#" + i;
      const seen = new Map([...el.querySelectorAll("details")].map((d, i) => [key(d, i), d.open]));
      // The keyboard focus stays on what had it (Retry now, say), found again by its id: a
      // refresh every second would otherwise drop it to the page's start.
      const focused = el.contains(document.activeElement) ? document.activeElement.id : "";
      el.replaceChildren(...[...fresh.childNodes].map((n) => document.importNode(n, true)));
      el.querySelectorAll("details").forEach((d, i) => { if (seen.has(key(d, i))) d.open = seen.get(key(d, i)); });
      const again = focused && document.getElementById(focused);
      if (again && el.contains(again)) again.focus({ preventScroll: true });
      startCountdowns();
      if (fresh.dataset.live) { setTimeout(tick, every); } else { delete el.dataset.live; }
    } catch (e) {
      setTimeout(tick, every * 2);
    }
  };
  setTimeout(tick, every);
}

// An integer too big for a JS number travels through JSON.stringify as {BIG: digits} and is
// put back as bare digits afterwards, so the preview shows exactly what the server sends.
const BIG = "\u0001int";

function jsonWithBigIntegers(body) {
  const text = JSON.stringify(body, (k, v) => (v && typeof v === "object" && BIG in v ? "\u0001" + v[BIG] + "\u0001" : v), 2);
  return text.replace(/"\\u0001(-?\d+)\\u0001"/g, "$1");
}

function typed(input) {
  const raw = input.value;
  const kind = input.dataset.type;
  if (kind === "integer") {
    const digits = raw.trim();
    if (!/^-?\d+$/.test(digits)) return { value: raw, problem: "not an integer" };
    // Past 2^53 a JS number rounds (OrderId 9007199254740993 would show as ...992): keep the
    // digits, and the preview writes them as they are (see BIG below).
    return { value: Number.isSafeInteger(Number(digits)) ? Number(digits) : { [BIG]: digits.replace(/^(-?)0+(?=\d)/, "$1") } };
  }
  if (kind === "number") {
    return raw.trim() !== "" && !isNaN(Number(raw)) ? { value: Number(raw) } : { value: raw, problem: "not a number" };
  }
  if (kind === "boolean") {
    return raw === "true" || raw === "false" ? { value: raw === "true" } : { value: raw, problem: "true or false" };
  }
  if (kind === "array" || kind === "object") {
    try { return { value: JSON.parse(raw) }; } catch (e) { return { value: raw, problem: "not valid JSON" }; }
  }
  return { value: raw };
}

// The raw-JSON mode's text parsed with every integer past 2^53 kept as its digits (the
// reviver's source text), so its preview and the fields it fills lose no digit.
function parseKeepingBigIntegers(text) {
  return JSON.parse(text, (k, v, ctx) =>
    (typeof v === "number" && !Number.isSafeInteger(v) && ctx && /^-?\d+$/.test(ctx.source) ? { [BIG]: ctx.source } : v));
}

function fieldText(value) {
  if (value && typeof value === "object" && BIG in value) return value[BIG];
  return typeof value === "string" ? value : jsonWithBigIntegers(value).replace(/\n\s*/g, " ");
}

function wirePreview(form) {
  const preview = document.getElementById("preview");
  const note = document.getElementById("preview-note");
  const fields = JSON.parse(form.dataset.schemaFields);
  const raw = document.getElementById("raw-json");
  const rawPanel = document.getElementById("raw-panel");
  const table = document.getElementById("field-table");
  const isRaw = () => form.elements.mode && form.elements.mode.value === "raw";
  const OK = "The body is sent exactly like this: the bare event object, compact JSON.";
  const show = (text, problem) => {
    if (text !== null) preview.textContent = text;
    note.textContent = problem ? "Check before firing: " + problem + " (the server validates against the schema too)." : OK;
    note.classList.toggle("warn", Boolean(problem));
  };
  const fromFields = () => {
    const body = {};
    const problems = [];
    for (const name of fields) {
      const input = form.elements["field_" + name];
      const omit = form.elements["omit_" + name];
      if (omit && omit.checked) continue;
      const t = typed(input);
      body[name] = t.value;
      input.classList.toggle("invalid", Boolean(t.problem));
      if (t.problem) problems.push(name + ": " + t.problem);
    }
    return { body, problem: problems.join("; ") };
  };
  const fromRaw = () => {
    try {
      const body = parseKeepingBigIntegers(raw.value);
      if (!body || typeof body !== "object" || Array.isArray(body)) return { body: null, problem: "the body must be a JSON object" };
      return { body, problem: "" };
    } catch (e) {
      return { body: null, problem: "not valid JSON (" + e.message + ")" };
    }
  };
  const update = () => {
    const r = isRaw() ? fromRaw() : fromFields();
    if (raw) raw.classList.toggle("invalid", isRaw() && r.body === null);
    show(r.body === null ? null : jsonWithBigIntegers(r.body), r.problem);
  };
  // Switching modes carries the body across: fields -> text, text -> fields (when it parses).
  const switchMode = () => {
    if (isRaw()) {
      raw.value = jsonWithBigIntegers(fromFields().body);
    } else {
      const r = fromRaw();
      if (r.body) {
        for (const name of fields) {
          const input = form.elements["field_" + name];
          const omit = form.elements["omit_" + name];
          if (name in r.body) { input.value = fieldText(r.body[name]); if (omit) omit.checked = false; }
          else if (omit) omit.checked = true;
        }
      }
    }
    rawPanel.hidden = !isRaw();
    table.hidden = isRaw();
    update();
  };
  // "new sample" throws away what was typed: ask first, only when something was.
  let edited = false;
  form.addEventListener("input", (e) => { if (e.target.name !== "mode") edited = true; });
  form.querySelectorAll(".samples a").forEach((a) => a.addEventListener("click", (e) => {
    if (edited && !window.confirm("Discard your edits and load a new sample?")) e.preventDefault();
  }));
  const invalid = document.getElementById("invalid");
  const fire = document.getElementById("fire");
  const markInvalid = () => {
    form.classList.toggle("invalid-on", invalid.checked);
    fire.textContent = invalid.checked ? fire.dataset.invalidLabel : fire.dataset.label;
  };
  if (invalid) invalid.addEventListener("change", markInvalid);
  form.querySelectorAll("input[name=mode]").forEach((r) => r.addEventListener("change", switchMode));
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-live]").forEach(refreshLive);
  const form = document.getElementById("fire-form");
  if (form) wirePreview(form);
});

// Countdowns, one ticker for both kinds: a delivery's next attempt, <span data-countdown="epoch s"
// data-now="the server's epoch s when it rendered"> ("in 41.2 s", "due now"), and a run's wait,
// <span data-remaining="s"> ("12.3 s left"). Each counts from the server's figure (a browser's
// clock may be off) and from when the span appeared, so spans a live refresh brings count on by
// themselves; the refresh brings the server's figure afresh.
function duration(s) {
  if (s < 60) return s.toFixed(1) + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + String(Math.floor(s % 60)).padStart(2, "0") + " s";
  return Math.floor(s / 3600) + " h " + String(Math.floor((s % 3600) / 60)).padStart(2, "0") + " min";
}

const COUNTDOWNS = "[data-countdown], [data-remaining]";

function tickCountdowns() {
  const now = performance.now();
  document.querySelectorAll(COUNTDOWNS).forEach((el) => {
    if (!el.dataset.seenAt) el.dataset.seenAt = String(now);
    const wait = "remaining" in el.dataset;
    const given = wait ? parseFloat(el.dataset.remaining) : parseFloat(el.dataset.countdown) - parseFloat(el.dataset.now);
    const left = given - (now - parseFloat(el.dataset.seenAt)) / 1000;
    if (wait) el.textContent = duration(Math.max(0, left)) + " left";
    else el.textContent = left <= 0 ? "due now" : "in " + duration(left);
  });
}

// Started once a page (or a live refresh of it) has a countdown; it then ticks till the page goes.
let countdownTicker = null;
function startCountdowns() {
  if (countdownTicker !== null || !document.querySelector(COUNTDOWNS)) return;
  tickCountdowns();
  countdownTicker = setInterval(tickCountdowns, 200);
}

document.addEventListener("DOMContentLoaded", startCountdowns);

// Copy to the clipboard: the clipboard API where the page may use it (a secure context, such as
// 127.0.0.1), else an off-screen textarea and execCommand. True when the text was copied.
async function copyToClipboard(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch (e) { /* not allowed here: the fallback below */ }
  const focused = document.activeElement;
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "offscreen";
  document.body.append(area);
  area.select();
  let done = false;
  try { done = document.execCommand("copy"); } catch (e) { done = false; }
  area.remove();
  if (focused && focused.focus) focused.focus({ preventScroll: true }); // the keyboard stays on the button
  return done;
}

// Every copy button, one listener on the document (buttons in live regions are replaced):
// <button data-copy-text="the exact text" data-copied="what the note says"> (a delivery's copy as
// cURL and copy body; the #copy-note says what happened), and <button data-copy="id of a <pre>">
// (a "Do this from code" snippet; the button's own label says it, then reads Copy again).
document.addEventListener("click", async (e) => {
  const button = e.target.closest && e.target.closest("button[data-copy-text], button[data-copy]");
  if (!button) return;
  if ("copyText" in button.dataset) {
    const done = await copyToClipboard(button.dataset.copyText);
    const note = document.getElementById("copy-note");
    if (note) note.textContent = done ? (button.dataset.copied || "Copied.") : "Could not copy: select the text and copy it.";
    return;
  }
  const pre = document.getElementById(button.dataset.copy);
  if (!pre) return;
  const done = await copyToClipboard(pre.textContent);
  if (!done) { // selected for the reader to copy by hand, as the label asks
    const range = document.createRange();
    range.selectNodeContents(pre);
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
  }
  button.textContent = done ? "Copied" : "Select and copy";
  setTimeout(() => { button.textContent = "Copy"; }, 2000);
});

// Schedule page: live figures (formatted as ui_numbers.py does) and two uPlot charts (axes,
// UTC time labels, gridlines, a tooltip at the cursor), from the figures API. uPlot is vendored
// under static/vendor/uplot and loaded only here; it draws on a canvas and sets styles through
// the CSSOM, which the page's CSP (no inline style attributes, no eval) allows.
const fmt = {
  count: (v) => (v == null ? "\u2013" : Math.round(v).toLocaleString("en-US")),
  per_s: (v) => (v == null ? "\u2013" : v >= 100 ? Math.round(v).toLocaleString("en-US") + " /s"
    : v >= 10 ? v.toFixed(1) + " /s" : v.toFixed(2) + " /s"),
  duration_ms: (v) => {
    if (v == null) return "\u2013";
    if (v < 10) return v.toFixed(2) + " ms";
    if (v < 100) return v.toFixed(1) + " ms";
    if (v < 1000) return v.toFixed(0) + " ms";
    if (v < 10000) return (v / 1000).toFixed(2) + " s";
    if (v < 100000) return (v / 1000).toFixed(1) + " s";
    return Math.round(v / 1000).toLocaleString("en-US") + " s";
  },
};

function utcLabel(t) {
  return new Date(t * 1000).toISOString().replace("T", " ").slice(0, 23) + " UTC";
}

function loadUPlot(assets) {
  if (window.uPlot) return Promise.resolve(window.uPlot);
  return new Promise((resolve, reject) => {
    const css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = assets.dataset.css;
    document.head.append(css);
    const js = document.createElement("script");
    js.src = assets.dataset.js;
    js.onload = () => resolve(window.uPlot);
    js.onerror = reject;
    document.head.append(js);
  });
}

// A tooltip that follows the cursor: the time and every shown series' value, as text.
function tooltip(formats) {
  let tip;
  return {
    hooks: {
      init: (u) => {
        tip = document.createElement("div");
        tip.className = "chart-tip";
        tip.hidden = true;
        u.over.append(tip);
      },
      setCursor: (u) => {
        const i = u.cursor.idx;
        if (i == null || u.cursor.left < 0) { tip.hidden = true; return; }
        const lines = [utcLabel(u.data[0][i])];
        for (let k = 1; k < u.series.length; k++) {
          if (u.series[k].show) lines.push(u.series[k].label + ": " + formats[k](u.data[k][i]));
        }
        tip.replaceChildren(...lines.map((text) => { const d = document.createElement("div"); d.textContent = text; return d; }));
        tip.hidden = false;
        const x = u.cursor.left + 14, y = u.cursor.top + 14;
        tip.style.left = Math.max(0, Math.min(x, u.over.clientWidth - tip.offsetWidth)) + "px";
        tip.style.top = Math.max(0, Math.min(y, u.over.clientHeight - tip.offsetHeight)) + "px";
      },
    },
  };
}

// Axis ticks: short (no "0.00 ms"), the unit kept.
const axisLabel = {
  per_s: (v) => v.toLocaleString("en-US", { maximumFractionDigits: 2 }) + " /s",
  count: (v) => v.toLocaleString("en-US", { maximumFractionDigits: 0 }),
  ms: (v) => (v === 0 ? "0" : v < 1000 ? v.toLocaleString("en-US", { maximumFractionDigits: 2 }) + " ms"
    : (v / 1000).toLocaleString("en-US", { maximumFractionDigits: 2 }) + " s"),
};
const GRID = { stroke: "#e3e6ec", width: 1 };
const AXIS = { stroke: "#4b5263", grid: GRID, ticks: { stroke: "#c9ced8", width: 1 } };

function makeCharts(uPlot, rateEl, latEl) {
  const width = () => Math.max(280, rateEl.clientWidth);
  const base = (height) => ({
    width: width(), height, tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    cursor: { sync: { key: "figures" } }, legend: { live: true },
  });
  const rate = new uPlot(Object.assign(base(240), {
    plugins: [tooltip([null, fmt.per_s, fmt.per_s, fmt.count])],
    scales: { rate: { range: (u, lo, hi) => [0, Math.max(1, hi * 1.1)] }, count: { range: (u, lo, hi) => [0, Math.max(1, hi * 1.1)] } },
    series: [
      { value: (u, v) => (v == null ? "\u2013" : utcLabel(v)) },
      { label: "generated/s", scale: "rate", stroke: "#1f5eff", width: 2, value: (u, v) => fmt.per_s(v) },
      { label: "delivered/s", scale: "rate", stroke: "#127a3d", width: 2, dash: [6, 4], value: (u, v) => fmt.per_s(v) },
      { label: "backlog", scale: "count", stroke: "#b45309", width: 1.5, value: (u, v) => fmt.count(v) },
    ],
    axes: [
      AXIS,
      Object.assign({}, AXIS, { scale: "rate", label: "events / s", size: 64, values: (u, vals) => vals.map(axisLabel.per_s) }),
      Object.assign({}, AXIS, { scale: "count", side: 1, label: "backlog", size: 64, grid: { show: false }, values: (u, vals) => vals.map(axisLabel.count) }),
    ],
  }), [[], [], [], []], rateEl);
  const latency = new uPlot(Object.assign(base(220), {
    plugins: [tooltip([null, fmt.duration_ms, fmt.duration_ms, fmt.duration_ms])],
    scales: { ms: { range: (u, lo, hi) => [0, Math.max(1, hi * 1.1)] } },
    series: [
      { value: (u, v) => (v == null ? "\u2013" : utcLabel(v)) },
      { label: "p50", scale: "ms", stroke: "#2748b8", width: 2, value: (u, v) => fmt.duration_ms(v) },
      { label: "p99", scale: "ms", stroke: "#b3261e", width: 2, value: (u, v) => fmt.duration_ms(v) },
      { label: "max", scale: "ms", stroke: "#5d6577", width: 1, dash: [3, 3], value: (u, v) => fmt.duration_ms(v) },
    ],
    axes: [AXIS, Object.assign({}, AXIS, { scale: "ms", label: "latency", size: 72, values: (u, vals) => vals.map(axisLabel.ms) })],
  }), [[], [], [], []], latEl);
  window.addEventListener("resize", () => { rate.setSize({ width: width(), height: 240 }); latency.setSize({ width: width(), height: 220 }); });
  return { rate, latency };
}

function plot(charts, all, summary) {
  // The point still filling (its interval not over) would plot as a drop at the right edge.
  const now = summary.start + summary.elapsed_s;
  const points = summary.end ? all : all.filter((p) => p.t + p.width <= now);
  const x = points.map((p) => p.t + p.width / 2);
  charts.rate.setData([x, points.map((p) => p.generated_per_s), points.map((p) => p.delivered_per_s), points.map((p) => p.backlog)]);
  charts.latency.setData([x, points.map((p) => p.latency_p50_ms), points.map((p) => p.latency_p99_ms), points.map((p) => p.latency_max_ms)]);
}

function wireFigures(section) {
  const outcomes = document.getElementById("outcomes");
  const assets = document.getElementById("uplot-assets");
  const waiting = document.getElementById("chart-waiting");
  let charts = null;
  const chartsReady = assets ? loadUPlot(assets).then((uPlot) => {
    charts = makeCharts(uPlot, document.getElementById("chart-rate"), document.getElementById("chart-latency"));
  }).catch(() => { if (waiting) waiting.textContent = "The chart library did not load; the CSV export has the same figures."; }) : null;
  const tick = async () => {
    try {
      const resp = await fetch(section.dataset.source, { credentials: "same-origin" });
      if (resp.ok) {
        const data = await resp.json();
        section.querySelectorAll("[data-figure]").forEach((el) => {
          const value = el.dataset.figure.split(".").reduce((o, k) => (o == null ? o : o[k]), data.summary);
          const format = fmt[el.dataset.format];
          el.textContent = format ? format(value) : (value == null ? "\u2013" : String(value));
        });
        if (chartsReady) await chartsReady;
        if (charts) {
          plot(charts, data.points, data.summary);
          if (waiting) waiting.hidden = data.points.length > 0;
        }
        const rows = Object.entries(data.summary.outcomes).map(([k, n]) => {
          const tr = document.createElement("tr");
          const a = document.createElement("td");
          a.textContent = /^2\d\d$/.test(k) ? k + " \u2713" : k;
          const b = document.createElement("td");
          b.className = "num";
          b.textContent = fmt.count(n);
          tr.append(a, b);
          return tr;
        });
        if (rows.length) outcomes.replaceChildren(...rows);
      }
    } catch (e) { /* try again at the next tick */ }
    setTimeout(tick, 1000);
  };
  tick();
}

document.addEventListener("DOMContentLoaded", () => {
  const figures = document.getElementById("figures");
  if (figures && figures.dataset.source) wireFigures(figures);
});

// A destructive form asks first: <form data-confirm="Delete ...?"> (or the attribute on its
// submit button). Not confirmed: nothing is posted. One listener on the document, so forms in
// live regions (replaced on each refresh) ask too.
document.addEventListener("submit", (event) => {
  const message = (event.submitter && event.submitter.dataset.confirm) || event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
