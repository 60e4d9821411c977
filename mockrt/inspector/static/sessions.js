/* mockrt inspector: the list of live and recent sessions (polls /_mockrt/api/sessions). */
(() => {
  "use strict";
  const BODY = document.body;
  const BASE = BODY.dataset.base || "/_mockrt";
  const POLL_MS = 2000;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, String(v));
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }
  function dur(s) {
    if (s === null || s === undefined) return "–";
    if (s >= 60) { const m = Math.floor(s / 60); return `${m}m ${Math.round(s - m * 60)}s`; }
    return `${s.toFixed(1)} s`;
  }

  const status = el("span", { class: "meta" });
  BODY.append(el("header", { class: "top" }, el("h1", { text: "mockrt sessions" }), status));
  const table = el("table", { id: "sessions" });
  const head = el("thead", {}, el("tr", {}, ...["Session", "State", "Dialect", "Model", "Client", "Started", "Duration",
    "Turns", "Responses", "Errors", "Events", ""].map((h) => el("th", { text: h }))));
  const tbody = el("tbody");
  table.append(head, tbody);
  BODY.append(el("div", { class: "list" }, table));

  async function poll() {
    try {
      const r = await fetch(`${BASE}/api/sessions`, { credentials: "same-origin", cache: "no-store" });
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      const data = await r.json();
      const rows = data.sessions.map((s) => {
        const href = `${BASE}/sessions/${encodeURIComponent(s.id)}`;
        return el("tr", { "data-session": s.id },
          el("td", { class: "mono" }, el("a", { href, text: s.id })),
          el("td", {}, el("span", { class: `badge ${s.live ? "live" : "ended"}`, text: s.live ? "live" : `ended${s.close_code ? ` ${s.close_code}` : ""}` })),
          el("td", { text: `${s.dialect}${s.flavour !== "openai" ? ` / ${s.flavour}` : ""}` }),
          el("td", { text: s.model || "–" }),
          el("td", { class: "ua", text: s.user_agent || "–", title: s.user_agent || "" }),
          el("td", { text: new Date(s.started_at * 1000).toLocaleString() }),
          el("td", { class: "num", text: dur(s.duration_s) }),
          el("td", { class: "num", text: String(s.turns) }),
          el("td", { class: "num", text: String(s.responses) }),
          el("td", { class: "num" }, s.errors ? el("span", { class: "badge err", text: String(s.errors) }) : "0"),
          el("td", { class: "num", text: String(s.events) }),
          el("td", {}, el("a", { href: `${href}/transcript.jsonl`, download: "", text: "transcript" })));
      });
      if (!rows.length) rows.push(el("tr", {}, el("td", { class: "empty", colspan: "12", text: "No sessions yet: connect a client to /v1/realtime." })));
      tbody.replaceChildren(...rows);
      const live = data.sessions.filter((s) => s.live).length;
      status.textContent = `${live} live, ${data.sessions.length - live} recent · updated ${new Date().toLocaleTimeString()}`;
      BODY.dataset.state = "done";
    } catch (err) {
      status.textContent = `update failed: ${err.message}`;
    }
    setTimeout(poll, POLL_MS);
  }
  poll();
})();
