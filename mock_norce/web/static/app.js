// mock-norce UI: live regions and the JSON preview of the fire form. Plain JS, no build.
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
      el.replaceChildren(...[...fresh.childNodes].map((n) => document.importNode(n, true)));
      el.querySelectorAll("details").forEach((d, i) => { if (seen.has(key(d, i))) d.open = seen.get(key(d, i)); });
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

function wirePreview(form) {
  const preview = document.getElementById("preview");
  const note = document.getElementById("preview-note");
  const fields = JSON.parse(form.dataset.schemaFields);
  const update = () => {
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
    preview.textContent = jsonWithBigIntegers(body);
    note.textContent = problems.length
      ? "Check before firing: " + problems.join("; ") + " (the server validates against the schema too)."
      : "The body is sent exactly like this: the bare event object, compact JSON.";
    note.classList.toggle("warn", problems.length > 0);
  };
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-live]").forEach(refreshLive);
  const form = document.getElementById("fire-form");
  if (form) wirePreview(form);
});

// A delivery's countdown to its next attempt: <span data-countdown="epoch s" data-now="the
// server's epoch s when it rendered">. Counted from the server's clock (a browser's may be
// off), re-read each tick, so spans replaced by a live refresh count on by themselves.
function countdownText(ms) {
  if (ms <= 0) return "due now";
  const s = ms / 1000;
  if (s < 60) return "in " + s.toFixed(1) + " s";
  if (s < 3600) return "in " + Math.floor(s / 60) + " min " + String(Math.floor(s % 60)).padStart(2, "0") + " s";
  return "in " + Math.floor(s / 3600) + " h " + String(Math.floor((s % 3600) / 60)).padStart(2, "0") + " min";
}

function tickCountdowns() {
  document.querySelectorAll("[data-countdown]").forEach((el) => {
    if (!el.dataset.seenAt) el.dataset.seenAt = String(Date.now());
    const left = (parseFloat(el.dataset.countdown) - parseFloat(el.dataset.now)) * 1000
      - (Date.now() - parseInt(el.dataset.seenAt, 10));
    el.textContent = countdownText(left);
  });
}

// "Copy as cURL" and "Copy body": <button data-copy-text="the exact text">. The clipboard API
// where the page may use it, else a selection and execCommand; the note says which happened.
async function copyText(button) {
  const text = button.dataset.copyText;
  const note = document.getElementById("copy-note");
  let done = false;
  try {
    await navigator.clipboard.writeText(text);
    done = true;
  } catch (e) {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.append(area);
    area.select();
    try { done = document.execCommand("copy"); } catch (err) { done = false; }
    area.remove();
  }
  if (note) note.textContent = done ? (button.dataset.copied || "Copied.") : "Could not copy: select the text and copy it.";
}

document.addEventListener("DOMContentLoaded", () => {
  if (document.querySelector("[data-countdown]")) { tickCountdowns(); setInterval(tickCountdowns, 200); }
  document.addEventListener("click", (e) => {
    const button = e.target.closest && e.target.closest("button[data-copy-text]");
    if (button) copyText(button);
  });
});

// Schedule page: live figures and an SVG chart of rate and latency, from the figures API.
const SVG = "http://www.w3.org/2000/svg";

function svgEl(name, attrs, text) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

function drawChart(svg, points) {
  const W = 800, H = 260, L = 48, R = 52, T = 14, B = 26;
  svg.replaceChildren();
  if (!points.length) {
    svg.append(svgEl("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "waiting for the first events…"));
    return;
  }
  const t0 = points[0].t, t1 = points[points.length - 1].t + points[points.length - 1].width;
  const maxRate = Math.max(1, ...points.map((p) => Math.max(p.generated_per_s, p.delivered_per_s)));
  const maxLat = Math.max(1, ...points.map((p) => p.latency_avg_ms || 0));
  const x = (t) => L + ((t - t0) / Math.max(1, t1 - t0)) * (W - L - R);
  const yRate = (v) => H - B - (v / maxRate) * (H - T - B);
  const yLat = (v) => H - B - (v / maxLat) * (H - T - B);
  svg.append(svgEl("line", { class: "axis", x1: L, y1: H - B, x2: W - R, y2: H - B }));
  svg.append(svgEl("line", { class: "axis", x1: L, y1: T, x2: L, y2: H - B }));
  svg.append(svgEl("text", { x: L - 6, y: T + 8, "text-anchor": "end" }, maxRate.toFixed(0)));
  svg.append(svgEl("text", { x: L - 6, y: H - B, "text-anchor": "end" }, "0"));
  svg.append(svgEl("text", { x: W - R + 6, y: T + 8 }, maxLat.toFixed(1) + " ms"));
  svg.append(svgEl("text", { x: W - R, y: H - 6, "text-anchor": "end" }, ((t1 - t0) | 0) + " s"));
  const path = (f, y) => points.filter((p) => f(p) !== null)
    .map((p, i) => (i ? "L" : "M") + x(p.t + p.width / 2).toFixed(1) + "," + y(f(p)).toFixed(1)).join(" ");
  svg.append(svgEl("path", { class: "rate", d: path((p) => p.generated_per_s, yRate) }));
  svg.append(svgEl("path", { class: "ok", d: path((p) => p.delivered_per_s, yRate) }));
  svg.append(svgEl("path", { class: "lat", d: path((p) => p.latency_avg_ms, yLat) }));
}

function wireFigures(section) {
  const svg = document.getElementById("chart");
  const outcomes = document.getElementById("outcomes");
  const tick = async () => {
    try {
      const resp = await fetch(section.dataset.source, { credentials: "same-origin" });
      if (resp.ok) {
        const data = await resp.json();
        section.querySelectorAll("[data-figure]").forEach((el) => {
          const value = el.dataset.figure.split(".").reduce((o, k) => (o == null ? o : o[k]), data.summary);
          el.textContent = value == null ? "–" : String(value);
        });
        if (svg) drawChart(svg, data.points);
        const rows = Object.entries(data.summary.outcomes).map(([k, n]) => {
          const tr = document.createElement("tr");
          const a = document.createElement("td");
          a.textContent = /^2\d\d$/.test(k) ? k + " ✓" : k;
          const b = document.createElement("td");
          b.className = "num";
          b.textContent = String(n);
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
