/* mockrt session inspector: one session, time-aligned (no dependencies, no build step).
 *
 * Data comes from the JSON endpoints under /_mockrt/api/sessions/{id}/ (see mockrt.inspector.endpoints.py); all heavy
 * work (decoding audio, the VAD replay, collapsing spans) is done by the server. The page keeps typed arrays and
 * draws four canvases that share one horizontal axis:
 *   - wall mode:  seconds since the session started (events at their journal time; input audio placed by the time
 *                 each append arrived, see mockrt/inspector/analysis.py; output audio from its first delta at
 *                 real-time duration);
 *   - audio mode: seconds of input audio (events at the input audio received by their time).
 */
(() => {
  "use strict";

  const BODY = document.body;
  const BASE = BODY.dataset.base || "/_mockrt";
  const SID = BODY.dataset.session;
  const API = `${BASE}/api/sessions/${encodeURIComponent(SID)}`;
  const POLL_MS = 1000;
  const LANE_H = 16;
  const COLORS = {
    client: "#2f6fdb", clientSpan: "#9dbbf0", server: "#2e9d57", serverSpan: "#9fd3b2", error: "#d6453d",
    speech: "#2e9d57", speechFill: "rgba(46,157,87,0.16)", prefix: "#a9dcbb", prefixFill: "rgba(46,157,87,0.07)",
    wait: "#e6c14a", wave: "#59677f", score: "#d6453d", commit: "#2f6fdb", clear: "#8a92a3",
    timeout: "#e08a1e", timeoutFill: "rgba(224,138,30,0.14)", output: "#7a5cc7", outputFill: "rgba(122,92,199,0.10)",
    trunc: "#c2185b", cancel: "#d6453d", select: "#f0a020", grid: "#eef0f3", text: "#1d2330", muted: "#6b7385",
  };

  // ------------------------------------------------------------------------------------------------ state
  const S = {
    summary: null, live: true, lastSeq: -1, entries: 0, tEnd: 0, counts: {},
    rows: [], rowIndex: new Map(),
    lanes: [], laneIndex: new Map(), hidden: new Set(), filter: "",
    input: {
      ms: 0, buckets: 0, envLo: new Int8Array(1024), envHi: new Int8Array(1024), arrive: new Float32Array(1024),
      startWall: 0, scores: new Uint8Array(1024), scoreTotal: 0, scoreSegments: [], config: [], segments: [],
      markers: [], serverEvents: [], recomputed: [], match: null, appends: 0, replayError: null, listsVersion: -1,
    },
    vadEvents: -1,
    responses: new Map(), respVersion: -1, conv: { items: [], version: -2, source: "" },
    view: { mode: "wall", v0: 0, v1: 1, auto: true },
    selected: null,
    timings: { firstRender: null, fullyDrawn: null, polls: 0 },
    loaded: false,
  };

  // ------------------------------------------------------------------------------------------------ helpers
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k === "style") node.style.cssText = v;  // CSSOM: a style attribute would break the page's CSP
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }
  function b64bytes(s) {
    const bin = atob(s || "");
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function grow(arr, need) {
    if (need <= arr.length) return arr;
    let cap = arr.length || 1024;
    while (cap < need) cap *= 2;
    const out = new arr.constructor(cap);
    out.set(arr);
    return out;
  }
  async function getJSON(url) {
    const r = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    return r.json();
  }
  function fmtS(v) {
    if (!isFinite(v)) return "–";
    const a = Math.abs(v);
    if (a >= 60) { const m = Math.floor(a / 60); return `${v < 0 ? "-" : ""}${m}:${(a - m * 60).toFixed(1).padStart(4, "0")}`; }
    return a >= 10 ? v.toFixed(2) : v.toFixed(3);
  }
  function category(type) {
    if (type.startsWith("session.") || type.startsWith("transcription_session")) return 0;
    if (type.startsWith("input_audio_buffer")) return 1;
    if (type.startsWith("conversation.item.input_audio_transcription")) return 2;
    if (type.startsWith("conversation.")) return 3;
    if (type.startsWith("response.")) return 4;
    if (type === "error") return 5;
    return 6;
  }

  // --------------------------------------------------------------------------------------- time mapping
  // Input audio ms -> wall s: knots at the end of every 10 ms bucket (arrive[b]), 0 ms at startWall.
  function wallOfA(ms) {
    const inp = S.input, n = inp.buckets;
    if (n === 0) return inp.startWall || 0;
    const x = ms / 10 - 1;
    if (x <= -1) return inp.startWall;
    if (x < 0) return inp.startWall + (x + 1) * (inp.arrive[0] - inp.startWall);
    const i = Math.floor(x);
    if (i >= n - 1) return inp.arrive[n - 1] + Math.max(0, ms - n * 10) / 1000;
    return inp.arrive[i] + (x - i) * (inp.arrive[i + 1] - inp.arrive[i]);
  }
  // Wall s -> input audio ms received by then (inverse of wallOfA; flat stretches give the latest audio).
  function audioOfT(t) {
    const inp = S.input, n = inp.buckets, arr = inp.arrive;
    if (n === 0 || t <= inp.startWall) return 0;
    if (t < arr[0]) return 10 * (t - inp.startWall) / Math.max(1e-9, arr[0] - inp.startWall);
    let lo = 0, hi = n - 1;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (arr[mid] <= t) lo = mid; else hi = mid - 1; }
    let a = (lo + 1) * 10;
    if (lo + 1 < n && arr[lo + 1] > arr[lo]) a += 10 * Math.min(1, (t - arr[lo]) / (arr[lo + 1] - arr[lo]));
    return a;
  }
  const vOfT = (t) => (S.view.mode === "wall" ? t : audioOfT(t) / 1000);
  const vOfA = (ms) => (S.view.mode === "wall" ? wallOfA(ms) : ms / 1000);
  const aOfV = (v) => (S.view.mode === "wall" ? audioOfT(v) : v * 1000);
  function vOfOutput(part, ms) { return vOfT(part.t0) + ms / 1000; }

  // ------------------------------------------------------------------------------------------------ DOM
  const ui = {};
  function buildPage() {
    ui.title = el("h1", { text: SID });
    ui.badge = el("span", { class: "badge live", text: "live" });
    ui.meta = el("span", { class: "meta" });
    const dl = (name, label) => el("a", { href: `${BASE}/sessions/${encodeURIComponent(SID)}/${name}`, download: "", text: label });
    ui.downloads = el("nav", { class: "downloads" }, dl("transcript.jsonl", "transcript.jsonl"), dl("input.wav", "input.wav"),
      dl("output.wav", "output.wav"));
    BODY.append(el("header", { class: "top" }, el("a", { href: `${BASE}/`, text: "← sessions" }), ui.title, ui.badge, ui.meta, ui.downloads));

    ui.modeWall = el("button", { class: "on", text: "Wall clock", title: "seconds since the session started", onclick: () => setMode("wall") });
    ui.modeAudio = el("button", { text: "Input audio", title: "seconds of input audio", onclick: () => setMode("audio") });
    ui.fit = el("button", { text: "Fit", title: "show everything (f)", onclick: () => fit(true) });
    ui.zin = el("button", { text: "+", title: "zoom in (+)", onclick: () => zoomAt(0.5, 0.5) });
    ui.zout = el("button", { text: "−", title: "zoom out (-)", onclick: () => zoomAt(2, 0.5) });
    ui.follow = el("input", { type: "checkbox", checked: true, title: "keep the end of a live session in view" });
    ui.filter = el("input", { type: "text", placeholder: "filter types (a|b)", size: 22 });
    ui.filter.addEventListener("input", () => { S.filter = ui.filter.value.trim(); layoutLanes(); requestRender(true); });
    const preset = (label, value) => el("button", { text: label, onclick: () => { ui.filter.value = value; S.filter = value; S.hidden.clear(); layoutLanes(); requestRender(true); } });
    ui.hint = el("span", { class: "hint" });
    ui.readout = el("span", { class: "readout mono" });
    BODY.append(el("div", { class: "toolbar" },
      el("span", { class: "group" }, el("span", { text: "Axis:" }), ui.modeWall, ui.modeAudio),
      el("span", { class: "group" }, el("span", { text: "Zoom:" }), ui.fit, ui.zin, ui.zout),
      el("label", { class: "group" }, ui.follow, el("span", { text: "follow live" })),
      el("span", { class: "group" }, el("span", { text: "Filter:" }), ui.filter, preset("All", ""),
        preset("VAD", "session|input_audio_buffer"), preset("Responses", "response.|conversation."), preset("Errors", "error")),
      ui.hint, ui.readout));

    const legend = (items) => el("div", { class: "legend" }, ...items.map(([c, t]) => el("div", {}, el("span", { class: "sw", style: `background:${c}` }), t)));
    ui.cRuler = el("canvas", { id: "c-ruler" });
    ui.cInput = el("canvas", { id: "c-input" });
    ui.cOutput = el("canvas", { id: "c-output" });
    ui.cLanes = el("canvas", { id: "c-lanes" });
    ui.laneLabels = el("div", { class: "gutter", id: "lane-labels" });
    ui.inputGutter = el("div", { class: "gutter" }, el("div", { class: "title", text: "Input audio + VAD" }),
      legend([[COLORS.wave, "waveform"], [COLORS.score, "speech score (replayed)"], [COLORS.speech, "speech (started→stopped)"],
        [COLORS.prefix, "prefix padding"], [COLORS.wait, "silence wait"], [COLORS.commit, "commit"], [COLORS.timeout, "idle timeout"]]));
    ui.vadInfo = el("div", { class: "legend mono" });
    ui.inputGutter.append(ui.vadInfo);
    ui.chart = el("div", { class: "chart", id: "chart" },
      el("div", { class: "crow ruler" }, el("div", { class: "gutter mono", id: "axis-name", text: "s since start" }), ui.cRuler),
      el("div", { class: "crow input" }, ui.inputGutter, ui.cInput),
      el("div", { class: "crow output" }, el("div", { class: "gutter" }, el("div", { class: "title", text: "Output audio" }),
        legend([[COLORS.output, "audio + transcript"], [COLORS.trunc, "truncation"], [COLORS.cancel, "cancellation"]])), ui.cOutput),
      el("div", { class: "crow lanes" }, ui.laneLabels, ui.cLanes));
    ui.detail = el("div", { id: "detail-body" }, el("div", { class: "sub", text: "Click an event, a speech segment or a response." }));
    ui.conv = el("ol", { id: "conv-list" });
    ui.convHead = el("h2", { text: "Conversation" });
    BODY.append(el("div", { class: "layout" }, ui.chart,
      el("aside", { class: "side" }, el("section", { id: "detail" }, el("h2", { text: "Event" }), ui.detail),
        el("section", { id: "conversation" }, ui.convHead, ui.conv))));
    ui.evTable = el("table", { id: "ev-table" });
    ui.evMore = el("div", { class: "more" });
    ui.evHead = el("h2", { text: "Events in view" });
    BODY.append(el("section", { class: "events" }, ui.evHead, ui.evTable, ui.evMore));
    ui.tip = el("div", { class: "tooltip" });
    BODY.append(ui.tip);

    for (const c of [ui.cRuler, ui.cInput, ui.cOutput, ui.cLanes]) attachPointer(c);
    window.addEventListener("resize", () => requestRender(true));
    window.addEventListener("keydown", (e) => {
      if (e.target && e.target.tagName === "INPUT") return;
      if (e.key === "f") fit(true);
      else if (e.key === "+" || e.key === "=") zoomAt(0.5, 0.5);
      else if (e.key === "-") zoomAt(2, 0.5);
      else if (e.key === "a") setMode(S.view.mode === "wall" ? "audio" : "wall");
    });
  }

  // ------------------------------------------------------------------------------------------------ view
  function contentEnd() {
    let end = 0;
    if (S.view.mode === "wall") {
      end = Math.max(S.tEnd, S.input.buckets ? wallOfA(S.input.buckets * 10) : 0);
    } else {
      end = S.input.ms / 1000;
      if (S.rows.length) end = Math.max(end, audioOfT(S.tEnd) / 1000);
    }
    for (const r of S.responses.values()) for (const p of r.audio) end = Math.max(end, vOfOutput(p, p.ms));
    return Math.max(end, 0.2);
  }
  function fit(user) {
    const end = contentEnd();
    S.view.v0 = -end * 0.01;
    S.view.v1 = end * 1.03;
    if (user) S.view.auto = true;
    requestRender(true);
  }
  function setMode(mode) {
    if (S.view.mode === mode) return;
    const [a0, a1] = [S.view.v0, S.view.v1];
    const toMode = (v) => (mode === "audio" ? audioOfT(v) / 1000 : wallOfA(v * 1000));
    S.view.mode = mode;
    if (S.view.auto) fit(false);
    else { S.view.v0 = toMode(a0); S.view.v1 = Math.max(toMode(a1), S.view.v0 + 0.01); }
    ui.modeWall.classList.toggle("on", mode === "wall");
    ui.modeAudio.classList.toggle("on", mode === "audio");
    document.getElementById("axis-name").textContent = mode === "wall" ? "s since start" : "s of input audio";
    requestRender(true);
  }
  function zoomAt(factor, frac) {
    const { v0, v1 } = S.view;
    const c = v0 + (v1 - v0) * frac;
    const span = Math.max(0.002, (v1 - v0) * factor);
    S.view.v0 = c - span * frac;
    S.view.v1 = S.view.v0 + span;
    S.view.auto = false;
    requestRender(true);
  }
  function width(canvas) { return canvas.clientWidth || 1; }
  function xOfV(v, w) { return ((v - S.view.v0) / (S.view.v1 - S.view.v0)) * w; }
  function vOfX(x, w) { return S.view.v0 + (x / w) * (S.view.v1 - S.view.v0); }

  // ------------------------------------------------------------------------------------------------ lanes
  function laneVisible(lane) {
    if (S.hidden.has(lane.key)) return false;
    if (!S.filter) return true;
    return S.filter.split("|").some((f) => f && lane.type.includes(f.trim()));
  }
  function layoutLanes() {
    const keys = Object.keys(S.counts);
    for (const key of keys) {
      if (!S.laneIndex.has(key)) {
        const [dir, ...rest] = key.split(":");
        const lane = { key, dir, type: rest.join(":"), first: S.lanes.length, rows: [] };
        S.laneIndex.set(key, lane);
        S.lanes.push(lane);
      }
    }
    S.lanes.sort((a, b) => category(a.type) - category(b.type) || (a.dir === b.dir ? 0 : a.dir === "client" ? -1 : 1) || a.first - b.first);
    S.visibleLanes = S.lanes.filter(laneVisible);
    const hiddenLanes = S.lanes.filter((l) => !laneVisible(l));
    ui.laneLabels.replaceChildren();
    const label = (lane, visible) => {
      const box = el("input", { type: "checkbox", checked: visible, title: visible ? "hide this lane" : "show this lane" });
      box.addEventListener("change", () => { if (box.checked) S.hidden.delete(lane.key); else S.hidden.add(lane.key); if (box.checked && !laneVisible(lane)) { ui.filter.value = ""; S.filter = ""; } layoutLanes(); requestRender(true); });
      const bad = lane.type === "error" || lane.type.startsWith("<");
      return el("div", { class: `lane-label ${lane.dir}${bad ? " bad" : ""}${visible ? "" : " hidden-lane"}`, "data-type": lane.type, "data-dir": lane.dir, title: `${lane.dir} ${lane.type}` },
        box, el("span", { text: lane.dir === "client" ? "→" : "←" }), el("span", { class: "name", text: lane.type.length > 33 ? `…${lane.type.slice(-32)}` : lane.type }), el("span", { class: "n", text: String(S.counts[lane.key] || 0) }));
    };
    for (const lane of S.visibleLanes) ui.laneLabels.append(label(lane, true));
    if (hiddenLanes.length) {
      ui.laneLabels.append(el("div", { class: "hidden-title", text: `hidden (${hiddenLanes.length})` }));
      for (const lane of hiddenLanes) ui.laneLabels.append(label(lane, false));
    }
    ui.cLanes.style.height = `${Math.max(40, S.visibleLanes.length * LANE_H + 6)}px`;
  }
  function mergeRows(rows) {
    for (const r of rows) {
      const i = S.rowIndex.get(r.id);
      if (i === undefined) { S.rowIndex.set(r.id, S.rows.length); S.rows.push(r); }
      else S.rows[i] = r;
    }
    for (const lane of S.lanes) lane.rows = [];
    const byKey = new Map();
    for (const r of S.rows) {
      const key = `${r.dir}:${r.type}`;
      let list = byKey.get(key);
      if (!list) { list = []; byKey.set(key, list); }
      list.push(r);
    }
    S.rowsByLane = byKey;
  }

  // ------------------------------------------------------------------------------------------------ drawing
  let renderQueued = false, tableDirty = false, tableTimer = null;
  function requestRender(table) {
    if (table) tableDirty = true;
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(() => { renderQueued = false; render(); });
  }
  function prep(canvas) {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth, h = canvas.clientHeight;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    return [ctx, w, h];
  }
  function niceStep(span, px) {
    const target = span / Math.max(1, px / 90);
    const steps = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600];
    return steps.find((s) => s >= target) || 3600;
  }
  function drawGrid(ctx, w, h) {
    const step = niceStep(S.view.v1 - S.view.v0, w);
    ctx.strokeStyle = COLORS.grid;
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let v = Math.ceil(S.view.v0 / step) * step; v <= S.view.v1; v += step) {
      const x = Math.round(xOfV(v, w)) + 0.5;
      ctx.moveTo(x, 0); ctx.lineTo(x, h);
    }
    ctx.stroke();
  }
  function drawSelection(ctx, w, h) {
    if (!S.selected) return;
    const x = xOfV(vOfT(S.selected.t), w);
    if (x < -2 || x > w + 2) return;
    ctx.save();
    ctx.strokeStyle = COLORS.select;
    ctx.setLineDash([4, 3]);
    ctx.lineWidth = 1.5;
    ctx.beginPath(); ctx.moveTo(x, 0); ctx.lineTo(x, h); ctx.stroke();
    ctx.restore();
  }
  function drawRuler() {
    const [ctx, w, h] = prep(ui.cRuler);
    const step = niceStep(S.view.v1 - S.view.v0, w);
    ctx.fillStyle = COLORS.muted;
    ctx.strokeStyle = "#b9c0cc";
    ctx.font = "11px system-ui, sans-serif";
    ctx.beginPath();
    for (let v = Math.ceil(S.view.v0 / step) * step; v <= S.view.v1; v += step) {
      const x = Math.round(xOfV(v, w)) + 0.5;
      ctx.moveTo(x, h - 6); ctx.lineTo(x, h);
      const label = step >= 1 ? fmtS(v).replace(/\.0+$/, "") : v.toFixed(step < 0.01 ? 3 : step < 0.1 ? 2 : 1);
      ctx.fillText(`${label}${step >= 60 ? "" : " s"}`, x + 3, 12);
    }
    ctx.stroke();
    drawSelection(ctx, w, h);
  }

  function scoreAt(a0, a1) {
    // max replayed score over the frames overlapping [a0, a1) ms; -1 where the VAD was off
    const segs = S.input.scoreSegments;
    let best = -1;
    for (let s = 0; s < segs.length; s++) {
      const seg = segs[s];
      const end = s + 1 < segs.length ? segs[s + 1].index : S.input.scoreTotal;
      const n = end - seg.index;
      if (n <= 0) continue;
      let k0 = Math.floor((a0 - seg.start_ms) / seg.frame_ms);
      let k1 = Math.ceil((a1 - seg.start_ms) / seg.frame_ms) - 1;
      if (k1 < k0) k1 = k0;
      if (k1 < 0 || k0 >= n) continue;
      k0 = Math.max(0, k0); k1 = Math.min(n - 1, k1);
      for (let k = k0; k <= k1; k++) { const sc = S.input.scores[seg.index + k]; if (sc > best) best = sc; }
    }
    return best < 0 ? -1 : best / 255;
  }
  function drawInput() {
    const canvas = ui.cInput;
    const [ctx, w, h] = prep(canvas);
    drawGrid(ctx, w, h);
    const inp = S.input;
    const top = 12, bottom = h - 14, mid = (top + bottom) / 2, amp = (bottom - top) / 2;
    const xa = (ms) => xOfV(vOfA(ms), w);
    const drawn = [];
    // idle timeouts
    for (const e of inp.serverEvents) {
      if (e.type !== "timeout_triggered") continue;
      const x0 = xa(e.audio_start_ms), x1 = Math.max(xa(e.audio_end_ms), x0 + 2);
      ctx.fillStyle = COLORS.timeoutFill; ctx.fillRect(x0, 0, x1 - x0, h);
      ctx.fillStyle = COLORS.timeout; ctx.fillRect(x0, 0, x1 - x0, 4);
      ctx.font = "10px system-ui, sans-serif"; ctx.fillText("idle timeout", x0 + 2, h - 3);
    }
    // speech segments: full-height fill, a solid band on top (speech), a thin band below it (prefix / silence wait)
    for (const seg of inp.segments) {
      if (seg.audio_start_ms === null || seg.audio_start_ms === undefined) continue;
      const endMs = seg.audio_end_ms === null || seg.audio_end_ms === undefined ? inp.ms : seg.audio_end_ms;
      const x0 = xa(seg.audio_start_ms), x1 = Math.max(xa(endMs), x0 + 1);
      ctx.fillStyle = COLORS.speechFill; ctx.fillRect(x0, 0, x1 - x0, h);
      ctx.fillStyle = COLORS.speech; ctx.fillRect(x0, 0, x1 - x0, 5);
      if (seg.onset_ms !== undefined && seg.onset_ms > seg.audio_start_ms) {
        const xo = xa(seg.onset_ms);
        ctx.fillStyle = COLORS.prefix; ctx.fillRect(x0, 6, xo - x0, 4);
      }
      if (seg.last_voiced_ms !== undefined && seg.audio_end_ms !== null && seg.last_voiced_ms < seg.audio_end_ms) {
        const xl = xa(seg.last_voiced_ms);
        ctx.fillStyle = COLORS.wait; ctx.fillRect(xl, 6, x1 - xl, 4);
      }
      drawn.push({ item_id: seg.item_id, audio_start_ms: seg.audio_start_ms, audio_end_ms: seg.audio_end_ms, end: seg.end,
        x0: Math.round(x0 * 10) / 10, x1: Math.round(x1 * 10) / 10, band_y0: 0, band_y1: 5, color: COLORS.speech });
    }
    // waveform: min/max of the buckets under each pixel column
    if (inp.buckets > 0) {
      ctx.strokeStyle = COLORS.wave; ctx.lineWidth = 1;
      ctx.beginPath();
      const px0 = Math.max(0, Math.floor(xa(0))), px1 = Math.min(w, Math.ceil(xa(inp.buckets * 10)));
      let aPrev = aOfV(vOfX(px0, w));
      for (let x = px0; x < px1; x++) {
        const aNext = aOfV(vOfX(x + 1, w));
        let b0 = Math.floor(aPrev / 10), b1 = Math.ceil(aNext / 10);
        aPrev = aNext;
        if (b1 <= b0) b1 = b0 + 1;
        if (b0 >= inp.buckets || b1 <= 0) continue;
        b0 = Math.max(0, b0); b1 = Math.min(inp.buckets, b1);
        let lo = 127, hi = -128;
        for (let b = b0; b < b1; b++) { if (inp.envLo[b] < lo) lo = inp.envLo[b]; if (inp.envHi[b] > hi) hi = inp.envHi[b]; }
        const y0 = mid - (hi / 128) * amp, y1 = mid - (lo / 128) * amp;
        ctx.moveTo(x + 0.5, y0); ctx.lineTo(x + 0.5, Math.max(y1, y0 + 1));
      }
      ctx.stroke();
    }
    // thresholds of the (last) configuration, then the replayed speech score
    const cfg = inp.config.filter((c) => c.vad);
    if (cfg.length) {
      ctx.save(); ctx.setLineDash([5, 4]); ctx.lineWidth = 1;
      for (let i = 0; i < cfg.length; i++) {
        const x0 = Math.max(0, xa(cfg[i].from_ms));
        const next = inp.config.find((c) => c.from_ms > cfg[i].from_ms);
        const x1 = next ? xa(next.from_ms) : w;
        for (const [thr, color] of [[cfg[i].on, "rgba(214,69,61,0.6)"], [cfg[i].off, "rgba(214,69,61,0.3)"]]) {
          const y = top + (1 - thr) * (bottom - top);
          ctx.strokeStyle = color; ctx.beginPath(); ctx.moveTo(x0, y); ctx.lineTo(x1, y); ctx.stroke();
        }
      }
      ctx.restore();
    }
    if (inp.scoreTotal > 0) {
      ctx.strokeStyle = COLORS.score; ctx.lineWidth = 1.3;
      ctx.beginPath();
      let pen = false;
      const px0 = Math.max(0, Math.floor(xa(0))), px1 = Math.min(w, Math.ceil(xa(inp.ms)));
      for (let x = px0; x < px1; x++) {
        const a0 = aOfV(vOfX(x, w)), a1 = aOfV(vOfX(x + 1, w));
        const s = scoreAt(a0, a1);
        if (s < 0) { pen = false; continue; }
        const y = top + (1 - s) * (bottom - top);
        if (pen) ctx.lineTo(x + 0.5, y); else { ctx.moveTo(x + 0.5, y); pen = true; }
      }
      ctx.stroke();
    }
    // commits and clears
    ctx.font = "10px system-ui, sans-serif";
    for (const m of inp.markers) {
      const x = Math.round(xa(m.ms)) + 0.5;
      ctx.strokeStyle = m.kind === "clear" ? COLORS.clear : COLORS.commit; ctx.lineWidth = 1.5;
      ctx.beginPath(); ctx.moveTo(x, 11); ctx.lineTo(x, h); ctx.stroke();
      ctx.fillStyle = ctx.strokeStyle;
      ctx.fillText(m.kind === "vad_commit" ? "commit (VAD)" : m.kind, x + 3, h - 3);
    }
    drawSelection(ctx, w, h);
    canvas.dataset.segments = JSON.stringify(drawn);
    canvas.dataset.view = JSON.stringify({ mode: S.view.mode, v0: S.view.v0, v1: S.view.v1, width: w, height: h });
  }

  function drawOutput() {
    const canvas = ui.cOutput;
    const [ctx, w, h] = prep(canvas);
    drawGrid(ctx, w, h);
    const drawn = [];
    ctx.font = "11px system-ui, sans-serif";
    const responses = [...S.responses.values()].sort((a, b) => a.seq - b.seq);
    // Output audio is drawn at real-time playback length from its first delta; parts that overlap in time
    // (a new reply before the previous one would have finished playing) go on a second row.
    const rowOf = new Map(), rowEnd = [-Infinity, -Infinity];
    for (const r of responses) for (const p of r.audio) {
      const a = vOfOutput(p, 0), b = vOfOutput(p, p.ms);
      const row = rowEnd[0] <= a ? 0 : rowEnd[1] <= a ? 1 : rowEnd[0] <= rowEnd[1] ? 0 : 1;
      rowOf.set(p, row); rowEnd[row] = b;
    }
    const rows = rowEnd[1] > -Infinity ? 2 : 1;
    const area0 = 26, area1 = h - 18, rowH = (area1 - area0) / rows;
    responses.forEach((r, ri) => {
      const x0 = xOfV(vOfT(r.t_created), w);
      const x1 = Math.max(xOfV(vOfT(r.t_done === null ? S.tEnd : r.t_done), w), x0 + 2);
      ctx.fillStyle = r.status === "completed" ? "#8a92a3" : r.status === "in_progress" ? COLORS.client : COLORS.cancel;
      ctx.fillRect(x0, 3, x1 - x0, 4);
      const next = ri + 1 < responses.length ? xOfV(vOfT(responses[ri + 1].t_created), w) : w;
      ctx.save(); ctx.beginPath(); ctx.rect(x0, 8, Math.max(0, next - x0 - 4), 14); ctx.clip();
      ctx.fillText(`${r.id} ${r.status}${r.reason ? ` (${r.reason})` : ""}`, x0 + 1, 19);
      ctx.restore();
      for (const p of r.audio) {
        const top = area0 + rowOf.get(p) * rowH, bottom = top + rowH - (rows > 1 ? 2 : 0);
        const mid = (top + bottom) / 2, amp = (bottom - top) / 2;
        const a0 = xOfV(vOfOutput(p, 0), w), a1 = Math.max(xOfV(vOfOutput(p, p.ms), w), a0 + 1);
        ctx.fillStyle = COLORS.outputFill; ctx.fillRect(a0, top, a1 - a0, bottom - top);
        const lo = new Int8Array(b64bytes(p.env_lo).buffer), hi = new Int8Array(b64bytes(p.env_hi).buffer);
        ctx.strokeStyle = COLORS.output; ctx.lineWidth = 1; ctx.beginPath();
        const px0 = Math.max(0, Math.floor(a0)), px1 = Math.min(w, Math.ceil(a1));
        for (let x = px0; x < px1; x++) {
          const m0 = (vOfX(x, w) - vOfOutput(p, 0)) * 1000, m1 = (vOfX(x + 1, w) - vOfOutput(p, 0)) * 1000;
          let b0 = Math.max(0, Math.floor(m0 / 10)), b1 = Math.min(lo.length, Math.max(Math.ceil(m1 / 10), b0 + 1));
          if (b0 >= lo.length) break;
          let l = 127, u = -128;
          for (let b = b0; b < b1; b++) { if (lo[b] < l) l = lo[b]; if (hi[b] > u) u = hi[b]; }
          if (u < l) continue;
          ctx.moveTo(x + 0.5, mid - (u / 128) * amp); ctx.lineTo(x + 0.5, Math.max(mid - (l / 128) * amp, mid - (u / 128) * amp + 1));
        }
        ctx.stroke();
        if (p.truncated_ms !== null && p.truncated_ms !== undefined) {
          const xt = xOfV(vOfOutput(p, p.truncated_ms), w);
          ctx.fillStyle = "rgba(246,247,249,0.75)"; ctx.fillRect(xt, top, Math.max(0, a1 - xt), bottom - top);
          ctx.strokeStyle = COLORS.trunc; ctx.lineWidth = 2; ctx.beginPath(); ctx.moveTo(xt, top - 4); ctx.lineTo(xt, bottom); ctx.stroke();
          ctx.fillStyle = COLORS.trunc; ctx.fillText(`truncated @ ${p.truncated_ms} ms`, xt + 3, top + 10);
        }
        ctx.save(); ctx.beginPath(); ctx.rect(a0, rows > 1 ? top : area1, a1 - a0, rows > 1 ? bottom - top : h - area1); ctx.clip();
        ctx.fillStyle = COLORS.text; ctx.fillText(p.transcript ? `“${p.transcript}”` : "", a0 + 2, rows > 1 ? bottom - 3 : h - 5);
        ctx.restore();
        drawn.push({ response_id: r.id, item_id: p.item_id, ms: p.ms, x0: Math.round(a0), x1: Math.round(a1) });
      }
      const cancelT = r.status === "cancelled" ? (r.cancel_t !== null ? r.cancel_t : r.t_done) : r.cancel_t;
      if (cancelT !== null && cancelT !== undefined) {
        const xc = xOfV(vOfT(cancelT), w);
        ctx.strokeStyle = COLORS.cancel; ctx.lineWidth = 2; ctx.beginPath(); ctx.moveTo(xc, 0); ctx.lineTo(xc, h); ctx.stroke();
        ctx.fillStyle = COLORS.cancel; ctx.fillText(`✕ cancelled${r.reason ? ` (${r.reason})` : ""}`, xc + 3, area0 + 22);
      }
    });
    if (!responses.length) { ctx.fillStyle = COLORS.muted; ctx.fillText("no responses yet", 8, h / 2); }
    drawSelection(ctx, w, h);
    canvas.dataset.parts = JSON.stringify(drawn);
  }

  function drawLanes() {
    const canvas = ui.cLanes;
    const [ctx, w, h] = prep(canvas);
    drawGrid(ctx, w, h);
    const lanes = S.visibleLanes || [];
    const marks = {};
    lanes.forEach((lane, i) => {
      const y = 3 + i * LANE_H;
      if (i % 2 === 1) { ctx.fillStyle = "#fafbfc"; ctx.fillRect(0, y - 1, w, LANE_H); }
      const rows = (S.rowsByLane && S.rowsByLane.get(lane.key)) || [];
      let count = 0;
      for (const r of rows) {
        const x0 = xOfV(vOfT(r.t), w);
        const x1 = r.t1 !== undefined ? xOfV(vOfT(r.t1), w) : x0;
        if (x1 < -3 || x0 > w + 3) continue;
        count++;
        const span = r.n > 1 || r.t1 !== undefined;
        const bad = r.bad || lane.type === "error";
        if (span) {
          ctx.fillStyle = bad ? COLORS.error : lane.dir === "client" ? COLORS.clientSpan : COLORS.serverSpan;
          ctx.fillRect(x0, y + 2, Math.max(3, x1 - x0), LANE_H - 6);
          ctx.fillStyle = bad ? COLORS.error : lane.dir === "client" ? COLORS.client : COLORS.server;
          ctx.fillRect(x0, y + 2, 2, LANE_H - 6);
        } else {
          ctx.fillStyle = bad ? COLORS.error : lane.dir === "client" ? COLORS.client : COLORS.server;
          ctx.fillRect(Math.round(x0) - 1, y + 1, 2.5, LANE_H - 4);
        }
      }
      marks[lane.type] = count;
    });
    drawSelection(ctx, w, h);
    canvas.dataset.marks = JSON.stringify(marks);
  }

  function drawTable() {
    tableDirty = false;
    const visible = new Set((S.visibleLanes || []).map((l) => l.key));
    const { v0, v1 } = S.view;
    const out = [];
    let total = 0;
    for (const r of S.rows) {
      if (!visible.has(`${r.dir}:${r.type}`)) continue;
      const a = vOfT(r.t), b = r.t1 !== undefined ? vOfT(r.t1) : a;
      if (b < v0 || a > v1) continue;
      total++;
      if (out.length < 400) out.push(r);
    }
    const frag = document.createDocumentFragment();
    for (const r of out) {
      const tr = el("tr", { class: `${r.dir}${r.bad || r.type === "error" ? " bad" : ""}${S.selected && S.selected.row === r.id ? " sel" : ""}`, "data-seq": r.id, "data-type": r.type },
        el("td", { class: "t mono", text: fmtS(r.t) }), el("td", { class: "d", text: r.dir === "client" ? "→" : "←" }),
        el("td", { class: "ty mono", text: r.type + (r.n > 1 ? ` ×${r.n}` : "") }), el("td", { class: "lb", text: r.label || "" }));
      tr.addEventListener("click", () => select(r.id, r.t, r.id));
      frag.append(tr);
    }
    ui.evTable.replaceChildren(frag);
    ui.evHead.textContent = `Events in view (${total})`;
    ui.evMore.textContent = total > out.length ? `${total - out.length} more in view: zoom in or filter to list them.` : "";
  }

  function render() {
    drawRuler();
    drawInput();
    drawOutput();
    drawLanes();
    if (tableDirty) {
      clearTimeout(tableTimer);
      tableTimer = setTimeout(drawTable, 120);
    }
  }

  // ------------------------------------------------------------------------------------------------ header, conversation
  // A call's session: its audio went down the phone line (SIP) or the media track (WebRTC), not out as deltas;
  // output.wav is what the far end heard.
  function renderCall(s) {
    const call = s.call;
    if (!call) return;
    const src = `${BASE}/sessions/${encodeURIComponent(SID)}/output.wav`;
    const sip = call.kind === "sip";
    if (!ui.call) {
      ui.callAudio = el("audio", { controls: true, preload: "none", src, title: sip ? "what the caller heard" : "what the peer was played" });
      ui.callInfo = el("span", { class: "meta" });
      ui.call = el("section", { class: "call" },
        el("b", { text: sip ? `SIP call ${call.id}: what the caller heard ` : `WebRTC call ${call.id}: what the peer was played ` }),
        ui.callAudio, " ", ui.callInfo);
      ui.downloads.after(ui.call);
      const link = ui.downloads.querySelector('a[href$="/output.wav"]');
      if (link) link.textContent = sip ? "output.wav (caller heard)" : "output.wav (played)";
    }
    ui.callInfo.textContent = `${call.status} · ${fmtS(call.heard_ms / 1000)} s heard`;
    if (!s.live && ui.callEnded !== true && ui.callAudio.paused) {  // the recording is complete: load all of it
      ui.callEnded = true;
      ui.callAudio.src = `${src}?t=${Date.now()}`;
    }
  }

  function renderHeader() {
    const s = S.summary;
    if (!s) return;
    ui.badge.className = `badge ${s.live ? "live" : "ended"}`;
    ui.badge.textContent = s.live ? "live" : `ended${s.close_code ? ` (${s.close_code})` : ""}`;
    const started = new Date(s.started_at * 1000);
    const parts = [["", `${s.dialect}${s.flavour !== "openai" ? ` / ${s.flavour}` : ""}`], ["model ", s.model || "–"],
      ["client ", s.user_agent || "–"], ["started ", started.toLocaleString()], ["", `${fmtS(s.duration_s)} s`],
      ["", `${s.events} events`], ["", `${s.responses} responses`], ["", `${s.errors} errors`]];
    ui.meta.replaceChildren(...parts.flatMap(([k, v], i) => [i ? " · " : "", k, el("b", { text: v })]));
    renderCall(s);
    const inp = S.input;
    const last = inp.config.filter((c) => c.vad).slice(-1)[0];
    const m = inp.match;
    const lines = [];
    if (last) lines.push(`${last.vad} · ${last.detector} · thr ${last.threshold} (on ${last.on.toFixed(2)}, off ${last.off.toFixed(2)})`,
      `pad ${last.prefix_padding_ms} ms · silence ${last.silence_duration_ms} ms · frame ${last.frame_ms} ms`);
    else lines.push("turn detection off");
    lines.push(`${fmtS(inp.ms / 1000)} s input in ${inp.appends} appends`);
    if (m && m.pairs.length) lines.push(`replay vs server: ${m.agree ? "agree" : "DIFFER"} (max ${m.max_diff_ms} ms)`);
    if (inp.replayError) lines.push(inp.replayError);
    ui.vadInfo.replaceChildren(...lines.map((t) => el("div", { text: t })));
    const appendsWall = inp.buckets ? wallOfA(inp.buckets * 10) - inp.startWall : 0;
    ui.hint.textContent = S.view.mode === "wall" && inp.ms > 1000 && appendsWall < inp.ms / 1000 / 3
      ? "input audio arrived faster than real time: try the Input audio axis" : "";
  }
  function itemText(item) {
    if (item.type === "function_call") return `${item.name || "?"}(${item.arguments || ""})`;
    if (item.type === "function_call_output") return item.output || "";
    if (item.type === "mcp_list_tools") return `${item.server_label}: ${(item.tools || []).join(", ") || "(no tools)"}`;
    if (item.type === "mcp_call") {
      const result = item.error ? `failed: ${item.error.message}` : item.output !== undefined && item.output !== null ? `→ ${item.output}` : "";
      return `${item.server_label}.${item.name || "?"}(${item.arguments || ""}) ${result}`;
    }
    if (item.type === "delegation") return `${item.target || "?"}${item.response_id ? ` (${item.response_id})` : ""} at ${item.offset_ms} ms`;
    if (item.type === "mcp_approval_request") return `${item.server_label}.${item.name}(${item.arguments || ""}) needs approval`;
    if (item.type === "mcp_approval_response") return `${item.approve ? "approved" : "denied"} ${item.approval_request_id}${item.reason ? `: ${item.reason}` : ""}`;
    return (item.content || []).map((p) => p.text || p.transcript || (p.type && p.type.includes("audio") ? "(audio)" : "")).filter(Boolean).join("\n");
  }
  function renderConversation() {
    const items = S.conv.items || [];
    ui.convHead.textContent = `Conversation (${items.length} items, ${S.conv.source || "…"})`;
    const frag = document.createDocumentFragment();
    for (const item of items) {
      const role = item.type === "message" ? item.role : item.type === "function_call" ? "tool call" : item.type === "function_call_output" ? "tool output" : item.type.startsWith("mcp_") ? item.type.replace("_", " ") : item.type;
      const sub = [];
      if (item.audio_range_ms) sub.push(`audio ${fmtS(item.audio_range_ms[0] / 1000)}–${fmtS(item.audio_range_ms[1] / 1000)} s`);
      if (item.output_range_ms) sub.push(`output ${fmtS(item.output_range_ms[0] / 1000)}–${fmtS(item.output_range_ms[1] / 1000)} s`);
      for (const p of item.content || []) if (p.audio_ms) sub.push(`${fmtS(p.audio_ms / 1000)} s audio`);
      if (item.status && item.status !== "completed") sub.push(item.status);
      if (item.truncated_ms !== undefined && item.truncated_ms !== null) sub.push(`truncated @ ${item.truncated_ms} ms`);
      if (item.call_id) sub.push(item.call_id);
      const li = el("li", { class: `${item.role || "tool"}`, "data-item": item.id },
        el("div", {}, el("span", { class: "role", text: role }), el("span", { class: "sub mono", text: item.id })),
        el("div", { class: "text", text: itemText(item) || "…" }), sub.length ? el("div", { class: "sub", text: sub.join(" · ") }) : null);
      li.addEventListener("click", () => focusItem(item));
      frag.append(li);
    }
    if (!items.length) frag.append(el("li", { class: "sub", text: "empty" }));
    ui.conv.replaceChildren(frag);
  }
  function focusItem(item) {
    if (item.audio_range_ms) {
      const a = vOfA(item.audio_range_ms[0]), b = vOfA(item.audio_range_ms[1]);
      const pad = Math.max(0.05, (b - a) * 0.15);
      S.view.v0 = a - pad; S.view.v1 = Math.max(b + pad, S.view.v0 + 0.05); S.view.auto = false;
    }
    for (const r of S.responses.values()) for (const p of r.audio) {
      if (p.item_id === item.id) {
        const a = vOfOutput(p, 0), b = vOfOutput(p, p.ms), pad = Math.max(0.05, (b - a) * 0.15);
        S.view.v0 = a - pad; S.view.v1 = Math.max(b + pad, S.view.v0 + 0.05); S.view.auto = false;
        return select(p.first_seq, p.t0, p.first_seq);
      }
    }
    const row = S.rows.find((r) => r.type.startsWith("conversation.item.") && r.label && r.label.startsWith(item.id));
    if (row) select(row.id, row.t, row.id);
    requestRender(true);
  }

  // ------------------------------------------------------------------------------------------------ selection, detail
  async function select(seq, t, rowId) {
    S.selected = { seq, t, row: rowId };
    requestRender(true);
    ui.detail.replaceChildren(el("div", { class: "sub", text: `loading event ${seq}…` }));
    try {
      const d = await getJSON(`${API}/events/${seq}`);
      const nodes = [el("div", { class: "head mono", text: `#${d.seq} · ${d.direction} · t=${d.t.toFixed(4)} s` + (S.input.buckets ? ` · audio ${fmtS(audioOfT(d.t) / 1000)} s` : "") })];
      if (d.span) {
        const sp = d.span;
        nodes.push(el("div", { class: "head", text: `span of ${sp.n} events, ${fmtS(sp.t)}–${fmtS(sp.t1)} s${sp.audio_ms !== undefined ? `, ${fmtS(sp.audio_ms / 1000)} s of audio` : ""}` }));
        nodes.push(el("div", { class: "sub", text: "first:" }));
      }
      nodes.push(el("pre", { text: JSON.stringify(d.event, null, 2) }));
      if (d.span_last) nodes.push(el("div", { class: "sub", text: `last (#${d.span_last.seq}, t=${d.span_last.t.toFixed(4)} s):` }), el("pre", { text: JSON.stringify(d.span_last.event, null, 2) }));
      ui.detail.replaceChildren(...nodes);
    } catch (err) {
      ui.detail.replaceChildren(el("div", { class: "sub", text: String(err) }));
    }
  }

  function hitLanes(x, y, w) {
    const lanes = S.visibleLanes || [];
    const i = Math.floor((y - 3) / LANE_H);
    if (i < 0 || i >= lanes.length) return null;
    const rows = (S.rowsByLane && S.rowsByLane.get(lanes[i].key)) || [];
    let best = null, bestD = 6;
    for (const r of rows) {
      const x0 = xOfV(vOfT(r.t), w), x1 = r.t1 !== undefined ? Math.max(xOfV(vOfT(r.t1), w), x0 + 3) : x0;
      const d = x < x0 ? x0 - x : x > x1 ? x - x1 : 0;
      if (d < bestD) { bestD = d; best = r; }
    }
    return best;
  }
  function hitInput(x, w) {
    let best = null, bestD = 6;
    const xa = (ms) => xOfV(vOfA(ms), w);
    for (const e of S.input.serverEvents) {
      const ms = e.type === "speech_started" ? e.audio_start_ms : e.audio_end_ms;
      if (ms === undefined) continue;
      const d = Math.abs(xa(ms) - x);
      if (d < bestD) { bestD = d; best = { seq: e.seq, t: e.t }; }
    }
    for (const m of S.input.markers) { const d = Math.abs(xa(m.ms) - x); if (d < bestD) { bestD = d; best = { seq: m.seq, t: m.t }; } }
    if (!best) for (const seg of S.input.segments) {
      const end = seg.audio_end_ms === null ? S.input.ms : seg.audio_end_ms;
      if (seg.audio_start_ms !== null && x >= xa(seg.audio_start_ms) && x <= xa(end)) {
        const ev = S.input.serverEvents.find((e) => e.item_id === seg.item_id && e.type === "speech_started");
        if (ev) best = { seq: ev.seq, t: ev.t };
      }
    }
    return best;
  }
  function hitOutput(x, w) {
    for (const r of S.responses.values()) for (const p of r.audio) {
      const a0 = xOfV(vOfOutput(p, 0), w), a1 = Math.max(xOfV(vOfOutput(p, p.ms), w), a0 + 3);
      if (x >= a0 - 2 && x <= a1 + 2) return { seq: p.first_seq, t: p.t0, text: `${r.id} ${r.status}\n${fmtS(p.ms / 1000)} s audio${p.truncated_ms !== null ? `, truncated @ ${p.truncated_ms} ms` : ""}\n${p.transcript}` };
    }
    for (const r of S.responses.values()) {
      const x0 = xOfV(vOfT(r.t_created), w), x1 = xOfV(vOfT(r.t_done === null ? S.tEnd : r.t_done), w);
      if (x >= x0 - 3 && x <= x1 + 3) return { seq: r.seq, t: r.t_created, text: `${r.id} ${r.status}` };
    }
    return null;
  }

  function attachPointer(canvas) {
    let drag = null;
    canvas.addEventListener("wheel", (e) => {
      e.preventDefault();
      const w = width(canvas), frac = e.offsetX / w;
      if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
        const d = ((e.shiftKey ? e.deltaY : e.deltaX) / w) * (S.view.v1 - S.view.v0);
        S.view.v0 += d; S.view.v1 += d; S.view.auto = false; requestRender(true);
      } else zoomAt(Math.exp(e.deltaY * 0.0015), frac);
    }, { passive: false });
    canvas.addEventListener("mousedown", (e) => { drag = { x: e.clientX, v0: S.view.v0, v1: S.view.v1, moved: false }; });
    window.addEventListener("mouseup", () => { if (drag && drag.moved) requestRender(true); drag = null; });
    canvas.addEventListener("mousemove", (e) => {
      const w = width(canvas);
      if (drag && (drag.moved || Math.abs(e.clientX - drag.x) > 3)) {
        drag.moved = true;
        const d = ((e.clientX - drag.x) / w) * (drag.v1 - drag.v0);
        S.view.v0 = drag.v0 - d; S.view.v1 = drag.v1 - d; S.view.auto = false;
        requestRender(false);
        return;
      }
      const v = vOfX(e.offsetX, w);
      const a = aOfV(v);
      const sc = scoreAt(a, a + 1);
      ui.readout.textContent = S.view.mode === "wall"
        ? `t ${fmtS(v)} s · audio ${fmtS(a / 1000)} s${sc >= 0 ? ` · score ${sc.toFixed(2)}` : ""}`
        : `audio ${fmtS(v)} s · t ${fmtS(wallOfA(a))} s${sc >= 0 ? ` · score ${sc.toFixed(2)}` : ""}`;
      let tip = null;
      if (canvas === ui.cLanes) { const r = hitLanes(e.offsetX, e.offsetY, w); if (r) tip = `${r.dir} ${r.type}${r.n > 1 ? ` ×${r.n}` : ""}\nt=${fmtS(r.t)}${r.t1 !== undefined ? `–${fmtS(r.t1)}` : ""} s\n${r.label || ""}`; }
      else if (canvas === ui.cOutput) { const o = hitOutput(e.offsetX, w); if (o) tip = o.text; }
      else if (canvas === ui.cInput) {
        const seg = S.input.segments.find((s) => s.audio_start_ms !== null && a >= s.audio_start_ms && a <= (s.audio_end_ms === null ? S.input.ms : s.audio_end_ms));
        if (seg) tip = `speech ${seg.item_id}\n${seg.audio_start_ms}–${seg.audio_end_ms === null ? "…" : seg.audio_end_ms} ms (ended by ${seg.end})${seg.onset_ms !== undefined ? `\nonset ${seg.onset_ms} ms` : ""}${seg.last_voiced_ms !== undefined ? `, last voiced ${seg.last_voiced_ms} ms` : ""}`;
      }
      if (tip) { ui.tip.textContent = tip; ui.tip.style.display = "block"; ui.tip.style.left = `${Math.min(e.clientX + 12, window.innerWidth - 430)}px`; ui.tip.style.top = `${e.clientY + 14}px`; }
      else ui.tip.style.display = "none";
    });
    canvas.addEventListener("mouseleave", () => { ui.tip.style.display = "none"; });
    canvas.addEventListener("click", (e) => {
      if (drag && drag.moved) return;
      const w = width(canvas);
      let hit = null;
      if (canvas === ui.cLanes) { const r = hitLanes(e.offsetX, e.offsetY, w); if (r) hit = { seq: r.id, t: r.t, row: r.id }; }
      else if (canvas === ui.cInput) hit = hitInput(e.offsetX, w);
      else if (canvas === ui.cOutput) hit = hitOutput(e.offsetX, w);
      if (hit) select(hit.seq, hit.t, hit.row !== undefined ? hit.row : hit.seq);
    });
    canvas.addEventListener("dblclick", () => fit(true));
  }

  // ------------------------------------------------------------------------------------------------ loading
  async function loadVad() {
    const inp = S.input;
    const d = await getJSON(`${API}/vad?from_bucket=${inp.buckets}&score_from=${inp.scoreTotal}&lists=${inp.listsVersion}`);
    if (d.from_bucket === inp.buckets && d.buckets > 0) {
      const n = inp.buckets + d.buckets;
      inp.envLo = grow(inp.envLo, n); inp.envHi = grow(inp.envHi, n); inp.arrive = grow(inp.arrive, n);
      inp.envLo.set(new Int8Array(b64bytes(d.env_lo).buffer), inp.buckets);
      inp.envHi.set(new Int8Array(b64bytes(d.env_hi).buffer), inp.buckets);
      inp.arrive.set(new Float32Array(b64bytes(d.arrive).buffer), inp.buckets);
      inp.buckets = n;
    }
    if (d.score_from === inp.scoreTotal) {
      const add = b64bytes(d.scores);
      inp.scores = grow(inp.scores, inp.scoreTotal + add.length);
      inp.scores.set(add, inp.scoreTotal);
      inp.scoreTotal += add.length;
    }
    inp.ms = d.input_ms; inp.startWall = d.start_wall || 0; inp.appends = d.appends;
    inp.scoreSegments = d.score_segments; inp.replayError = d.replay_error;
    if (d.lists_version !== inp.listsVersion) {  // turns, commits, configurations: only sent when they changed
      inp.config = d.config; inp.segments = d.segments; inp.markers = d.markers;
      inp.serverEvents = d.server_events; inp.recomputed = d.recomputed; inp.match = d.match;
      inp.listsVersion = d.lists_version;
    }
  }
  async function loadConversation() {
    const d = await getJSON(`${API}/conversation?since=${S.respVersion}`);
    for (const r of d.responses) S.responses.set(r.id, r);
    S.respVersion = d.responses_version;
    S.conv = { items: d.items, version: d.version, source: d.source };
    renderConversation();
  }
  async function poll() {
    let again = true;
    try {
      const tl = await getJSON(`${API}/timeline?since=${S.lastSeq}`);
      S.timings.polls++;
      const grew = tl.last_seq !== S.lastSeq;
      S.summary = tl.session; S.live = tl.live; S.lastSeq = tl.last_seq; S.entries = tl.entries; S.counts = tl.counts;
      S.tEnd = Math.max(S.tEnd, tl.t_end);
      mergeRows(tl.rows);
      if (grew || !S.loaded) layoutLanes();
      const first = !S.loaded;
      if (first) { fit(false); render(); S.timings.firstRender = performance.now(); BODY.dataset.state = "timeline"; }
      const jobs = [];
      if (tl.input_buckets > S.input.buckets || tl.score_frames > S.input.scoreTotal || tl.vad_events !== S.vadEvents || first) {
        S.vadEvents = tl.vad_events;
        jobs.push(loadVad());
      }
      const ended = S.conv.source === "live" && !tl.live;  // the live model is gone: show the journal's view
      if (ended || tl.conversation_version !== S.conv.version || tl.responses_version !== S.respVersion) jobs.push(loadConversation());
      await Promise.all(jobs);
      renderHeader();
      if (S.view.auto) fit(false);
      else if (S.live && ui.follow.checked && grew) {
        const end = contentEnd(), span = S.view.v1 - S.view.v0;
        if (end > S.view.v1) { S.view.v1 = end + span * 0.02; S.view.v0 = S.view.v1 - span; }
      }
      if (grew || jobs.length || first) requestRender(true);
      if (first) {
        S.loaded = true;
        render();
        await new Promise((r) => requestAnimationFrame(() => r()));
        S.timings.fullyDrawn = performance.now();
      }
      BODY.dataset.lastSeq = String(S.lastSeq);
      BODY.dataset.state = S.live ? "live" : "done";
      again = S.live;
    } catch (err) {
      ui.hint.textContent = `update failed: ${err.message}`;
    }
    if (again) setTimeout(poll, POLL_MS);
  }

  buildPage();
  BODY.dataset.state = "loading";
  window.mockrtInspector = {
    state: S, timings: S.timings, setMode, fit, zoomAt, select, wallOfA, audioOfT, vOfA, vOfT,
    xOfV: (v) => xOfV(v, width(ui.cInput)),
    redrawMs: (n) => { const t0 = performance.now(); for (let i = 0; i < (n || 10); i++) { S.view.v1 *= 0.999; render(); } return (performance.now() - t0) / (n || 10); },
  };
  poll();
})();
