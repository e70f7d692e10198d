"""The dashboard's one HTML page (no build step, no external files). Data arrive by ``fetch`` with the
admin token and are written with ``textContent`` only, so a participant's prompt can never become markup."""

from __future__ import annotations

__all__ = ["PAGE"]

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Class gateway - imagewidgets</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body{font:15px system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
 header{display:flex;gap:1em;align-items:center;padding:.6em 1em;background:#1d2330;color:#fff;flex-wrap:wrap}
 header h1{font-size:1.1em;margin:0 1em 0 0}
 button{font:inherit;padding:.25em .7em;border-radius:4px;border:1px solid #889;background:#fff;cursor:pointer}
 button.danger{border-color:#c0392b;color:#c0392b}
 main{padding:1em;display:grid;grid-template-columns:minmax(520px,3fr) 2fr;gap:1em}
 section{background:#fff;border-radius:6px;padding:.8em;box-shadow:0 1px 2px #0002}
 table{border-collapse:collapse;width:100%} td,th{padding:.25em .4em;border-bottom:1px solid #eee;text-align:left}
 .bar{width:120px;height:10px;background:#e5e8ee;border-radius:5px;overflow:hidden;display:inline-block}
 .bar i{display:block;height:100%;background:#2e86de} .bar i.over{background:#c0392b}
 tr.revoked td{color:#999;text-decoration:line-through} tr.revoked td.actions{text-decoration:none}
 #gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(130px,1fr));gap:.5em}
 figure{margin:0} figure img{width:100%;border-radius:4px;background:#eee} figcaption{font-size:.8em;color:#556}
 #paused-banner{display:none;background:#f39c12;color:#000;padding:.4em 1em;font-weight:bold}
 body.paused #paused-banner{display:block}
 body.projector header,body.projector #tables,body.projector #paused-banner{display:none}
 body.projector main{display:block;padding:0} body.projector section#images{background:#000;min-height:100vh}
 body.projector #gallery{grid-template-columns:repeat(auto-fill,minmax(300px,1fr))}
 body.projector figcaption{color:#ddd;font-size:1.1em} body.projector h2{display:none}
 #login{max-width:30em;margin:4em auto} #login input{width:100%;font:inherit;padding:.3em}
 .muted{color:#667} #error{color:#c0392b}
</style></head>
<body>
<div id="login" hidden><section><h2>Class gateway: teacher's dashboard</h2>
 <p>Paste the admin token (it starts with <code>iwa_</code>; <code>imagewidgets gateway admin-token</code> makes a new one).</p>
 <form id="login-form"><input id="token" type="password" autocomplete="off" placeholder="iwa_..."> <button>Open</button></form>
 <p id="error"></p></section></div>
<div id="app" hidden>
<header><h1>Class gateway</h1><span id="totals"></span><span class="muted" id="upstream"></span>
 <span style="flex:1"></span><button id="pause">Pause everyone</button><button id="projector">Projector</button></header>
<div id="paused-banner">The class is paused: every participant's request is refused until you resume.</div>
<main><div id="tables">
 <section><h2>Participants</h2><table id="participants"><thead><tr><th>who</th><th>spent / budget</th><th>left</th>
  <th>requests</th><th>refused</th><th>now</th><th>budget $</th><th></th></tr></thead><tbody></tbody></table></section>
 <section id="line"><h2>The line</h2><p id="limits" class="muted"></p>
  <table id="waiting"><thead><tr><th>#</th><th>who</th><th>waited</th><th>goes in about</th></tr></thead><tbody></tbody></table>
  <p id="waits" class="muted"></p></section>
 <section id="refusals"><h2>Refused by moderation</h2><table id="moderation"><thead><tr><th>who</th><th>stage</th>
  <th>categories</th><th>what</th></tr></thead><tbody></tbody></table></section>
 <section><h2>Requests</h2><table id="recent"><thead><tr><th>who</th><th>what</th><th>state</th><th>$</th><th></th></tr></thead>
  <tbody></tbody></table></section>
 <section><h2>Refused requests</h2><table id="refused"><thead><tr><th>when</th><th>who</th><th>what</th><th>why</th></tr></thead>
  <tbody></tbody></table></section></div>
 <section id="images"><h2>Newest images</h2><div id="gallery"></div></section></main></div>
<script>
"use strict";
const KEY = "imagewidgets-gateway-admin";
let token = sessionStorage.getItem(KEY) || "";
const m = location.hash.match(/token=([^&]+)/);
if (m) { token = decodeURIComponent(m[1]); sessionStorage.setItem(KEY, token); history.replaceState(null, "", location.pathname); }
const $ = (s) => document.querySelector(s);
const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
const usd = (x) => "$" + Number(x).toFixed(x >= 10 ? 2 : 4);
let state = null, lastImage = 0, timer = null;
const thumbs = new Map();

async function api(path, body) {
  const init = {headers: {"Authorization": "Bearer " + token}};
  if (body !== undefined) { init.method = "POST"; init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
  const r = await fetch(path, init);
  if (r.status === 401) { showLogin("That token is not the admin token."); throw new Error("401"); }
  return r;
}
function showLogin(message) {
  sessionStorage.removeItem(KEY); token = ""; if (timer) clearInterval(timer);
  $("#app").hidden = true; $("#login").hidden = false; $("#error").textContent = message || "";
}
$("#login-form").addEventListener("submit", (ev) => { ev.preventDefault(); token = $("#token").value.trim();
  sessionStorage.setItem(KEY, token); start(); });

function participantRow(p) {
  const tr = el("tr"); tr.dataset.pid = p.id; if (p.revoked) tr.className = "revoked";
  tr.append(el("td", p.label));
  const used = p.spent_usd + p.reserved_usd, frac = p.budget_usd > 0 ? Math.min(1, used / p.budget_usd) : 1;
  const cell = el("td"); const bar = el("span", undefined, "bar"); const fill = el("i", undefined, used > p.budget_usd ? "over" : "");
  fill.style.width = (100 * frac).toFixed(1) + "%"; bar.append(fill);
  cell.append(bar, document.createTextNode(" " + usd(p.spent_usd) + " / " + usd(p.budget_usd))); tr.append(cell);
  tr.append(el("td", usd(p.left_usd), "left"), el("td", String(p.requests), "requests"), el("td", String(p.refused), "refused"),
            el("td", p.revoked ? "revoked" : (p.in_flight ? p.in_flight + " running" : ""), "status"));
  const b = el("td"); const input = el("input"); input.type = "number"; input.step = "0.5"; input.min = "0"; input.style.width = "5em";
  input.value = p.budget_usd; input.className = "budget"; const set = el("button", "Set"); set.className = "set-budget";
  set.onclick = async () => { await api("/dashboard/api/participants/" + p.id + "/budget", {budget_usd: Number(input.value)}); refresh(); };
  b.append(input, set); tr.append(b);
  const act = el("td", undefined, "actions"); const rv = el("button", p.revoked ? "Restore" : "Revoke", p.revoked ? "restore" : "danger revoke");
  rv.onclick = async () => {
    // revoking stops a participant mid-class: ask first (restoring needs no question)
    if (!p.revoked && !confirm("Revoke " + p.label + "'s token? Their next request will be refused until you restore it.")) return;
    await api("/dashboard/api/participants/" + p.id + "/revoke", {revoked: !p.revoked}); refresh(); };
  act.append(rv); tr.append(act); return tr;
}
async function loadThumb(img, id) {
  if (thumbs.has(id)) { img.src = thumbs.get(id); return; }
  const r = await api("/dashboard/api/images/" + id); if (!r.ok) return;
  const url = URL.createObjectURL(await r.blob()); thumbs.set(id, url); img.src = url;
}
function render() {
  document.body.classList.toggle("paused", state.paused);
  $("#pause").textContent = state.paused ? "Resume everyone" : "Pause everyone";
  const t = state.totals;
  $("#totals").textContent = "spent " + usd(t.spent_usd) + " of " + usd(t.budget_usd) + (state.rules.total_cap_usd ? " (class cap " + usd(state.rules.total_cap_usd) + ")" : "")
    + " · " + t.requests + " requests · " + t.refused + " refused";
  $("#upstream").textContent = "upstream: " + state.upstream;
  const focused = document.activeElement && document.activeElement.classList.contains("budget") ? document.activeElement.closest("tr").dataset.pid : null;
  if (!focused) { const body = $("#participants tbody"); body.replaceChildren(...state.participants.map(participantRow)); }
  $("#recent tbody").replaceChildren(...state.recent.map((r) => { const tr = el("tr");
    tr.append(el("td", r.label), el("td", r.endpoint + " " + (r.model || "")), el("td", r.state + (r.status ? " " + r.status : "")),
              el("td", usd(r.state === "reserved" ? r.reserved_usd : r.charged_usd)), el("td", r.note || "", "muted")); return tr; }));
  $("#refused tbody").replaceChildren(...(state.refusals || []).map((r) => { const tr = el("tr");
    tr.append(el("td", new Date(r.created_at * 1000).toLocaleTimeString(), "muted"), el("td", r.label || "?"),
              el("td", r.what || ""), el("td", r.message || r.code, "why")); return tr; }));
  renderLine(state.line || {});
  $("#moderation tbody").replaceChildren(...state.participants.flatMap((p) => p.moderation.map((m) => { const tr = el("tr");
    tr.append(el("td", p.label), el("td", m.stage || "not said"), el("td", m.categories.join(", ") || "not said"),
              el("td", m.endpoint)); return tr; })));
  const gallery = $("#gallery");
  for (const im of state.images.slice().reverse()) {
    if (im.id <= lastImage) continue; lastImage = im.id;
    const fig = el("figure"); const img = el("img"); img.alt = im.prompt || ""; img.dataset.id = im.id;
    fig.append(img, el("figcaption", im.label + (im.prompt ? ": " + im.prompt : ""))); gallery.prepend(fig); loadThumb(img, im.id);
  }
  while (gallery.children.length > 48) gallery.lastChild.remove();
}
function renderLine(line) {
  const limits = Object.entries(line.limits || {}).map(([k, v]) => v + " " + k);
  const learned = Object.entries(line.learned || {}).map(([k, v]) => v + " " + k);
  const used = Object.entries(line.used || {}).map(([k, v]) => v + " " + k);
  $("#limits").textContent = (limits.length ? "limits: " + limits.join(", ") + " per " + line.window_s + " s" : "no limit known yet")
    + (learned.length ? " (learned from the upstream: " + learned.join(", ") + ")" : "")
    + (used.length ? " · used now: " + used.join(", ") : "") + " · longest wait allowed " + line.max_wait_s + " s"
    + (line.blocked_for_s ? " · paused " + line.blocked_for_s + " s: " + line.blocked_why : "");
  $("#waiting tbody").replaceChildren(...(line.waiting || []).map((w) => { const tr = el("tr");
    tr.append(el("td", String(w.position)), el("td", w.label), el("td", w.waited_s + " s"), el("td", w.eta_s + " s")); return tr; }));
  const waits = line.waits || {};
  $("#waits").textContent = (line.waiting && line.waiting.length ? line.waiting.length + " waiting · " : "nobody waiting · ")
    + (waits.count ? waits.count + " requests waited, longest " + waits.longest_s + " s, mean " + waits.mean_s + " s · " : "")
    + (line.upstream_429s || 0) + " upstream 429s put back in line · " + (line.refused_too_long || 0) + " refused for waiting too long";
}
async function refresh() {
  try { const r = await api("/dashboard/api/state"); state = await r.json(); render(); } catch (e) { /* next poll */ }
}
$("#pause").onclick = async () => { await api("/dashboard/api/pause", {paused: !state.paused}); refresh(); };
$("#projector").onclick = () => { document.body.classList.add("projector"); if (document.documentElement.requestFullscreen) document.documentElement.requestFullscreen().catch(() => {}); };
document.addEventListener("keydown", (ev) => { if (ev.key === "Escape") document.body.classList.remove("projector"); });
document.addEventListener("click", (ev) => { if (document.body.classList.contains("projector") && ev.target.closest("#images")) document.body.classList.remove("projector"); });
async function start() {
  if (!token) { showLogin(""); return; }
  $("#login").hidden = true; $("#app").hidden = false;
  await refresh(); if (timer) clearInterval(timer); timer = setInterval(refresh, 2000);
}
start();
</script></body></html>
"""
