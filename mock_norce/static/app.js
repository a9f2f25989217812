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
      const open = new Set([...el.querySelectorAll("details[open]")].map((d, i) => i));
      el.replaceChildren(...[...fresh.childNodes].map((n) => document.importNode(n, true)));
      el.querySelectorAll("details").forEach((d, i) => { if (open.has(i)) d.open = true; });
      if (fresh.dataset.live) { setTimeout(tick, every); } else { delete el.dataset.live; }
    } catch (e) {
      setTimeout(tick, every * 2);
    }
  };
  setTimeout(tick, every);
}

function typed(input) {
  const raw = input.value;
  const kind = input.dataset.type;
  if (kind === "integer") {
    return /^-?\d+$/.test(raw.trim()) ? { value: Number(raw) } : { value: raw, problem: "not an integer" };
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
    preview.textContent = JSON.stringify(body, null, 2);
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
