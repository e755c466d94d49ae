// The agent page: one WebSocket (/api/agent/ws) pushes this agent's state and a screen pop
// the moment their phone rings. Text goes in with textContent only: numbers, names and
// order contents are data, not markup.
"use strict";

const STATES = { available: "空闲", ringing: "振铃", on_call: "通话中", wrap_up: "话后处理", paused: "暂停", unreachable: "话机离线", logged_out: "未登录" };
// why no call comes, when the agent did not choose it
const WHY = {
  no_answer: "来电振铃未接听，已自动暂停分配来电。确认话机正常后点「恢复」。",
  unreachable: "话机无法连接（离线或注册已过期），不会分配来电。请检查话机或重新打开软电话。",
};
const STATUS = { draft: "草稿", accepted: "已受理", dispatched: "已派发", signed: "已签收", returned: "已退单", coordinating: "协调中", replied: "已答复" };
const DISPOSITIONS = { answered: "已接通", abandoned_in_ivr: "导航中挂机", abandoned_in_queue: "排队中放弃" };
// the login page's cookie (HttpOnly) goes with every request and the WebSocket;
// a supervisor's read-only view names the agent: /agent?agent=1003
const viewed = new URLSearchParams(location.search).get("agent") || "";
const toLogin = () => { location.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`; };
let hello = null;
let reasons = {};
let stateSince = null;
let pop = null;
let popAt = 0;
let waitShown = false;
let pending = null;  // the new call's form, while the previous call's is still being written

const $ = (id) => document.getElementById(id);
const form = $("order");

function el(tag, text = "", attrs = {}) {
  const node = document.createElement(tag);
  node.textContent = text;
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function mmss(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.max(0, Math.round(seconds));
  const pad = (n) => String(n).padStart(2, "0");
  if (s >= 3600) return `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
  return `${Math.floor(s / 60)}:${pad(s % 60)}`;
}

function when(iso) {
  if (!iso) return "–";
  return new Date(iso).toLocaleString("zh-CN", { hour12: false });
}

function none(text, columns) {
  const tr = document.createElement("tr");
  tr.append(el("td", text, { colspan: String(columns), class: "dim" }));
  return tr;
}

function row(...cells) {
  const tr = document.createElement("tr");
  for (const c of cells) tr.append(el("td", c ?? ""));
  return tr;
}

function onHello(h) {
  hello = h;
  $("city").textContent = h.city_name || "";
  $("who").textContent = `${h.name || ""} 工号 ${h.agent}${h.read_only ? `（${h.user} 只读查看）` : ""}`;
  document.body.classList.toggle("read-only", Boolean(h.read_only));
  reasons = Object.fromEntries([...h.pause_reasons, ...(h.system_reasons || [])].map((r) => [r.code, r.title]));
  $("reason").replaceChildren(...h.pause_reasons.map((r) => el("option", r.title, { value: r.code })));
  form.request_type.replaceChildren(...h.request_types.map((t) => el("option", t.title, { value: t.code })));
  form.channel.replaceChildren(...h.channels.map((c) => el("option", c.title, { value: c.code })));
  $("topics").replaceChildren(...h.topics.map((t) => {
    const label = el("label", "", { class: "inline" });
    const box = el("input", "", { type: "checkbox", name: "topic", value: t });
    label.append(box, t);
    return label;
  }));
}

function onState(s) {
  const state = s.state || "logged_out";
  const badge = $("state");
  badge.dataset.state = state;
  stateSince = s.since ? new Date(s.since) : null;
  badge.dataset.label = `${STATES[state] || state}${s.reason ? ` · ${reasons[s.reason] || s.reason}` : ""}`;
  renderState();
  const why = WHY[state] || (state === "paused" ? WHY[s.reason] : "");
  $("why").textContent = why || "";
  $("why").hidden = !why;
  $("pop").classList.toggle("ringing", state === "ringing");
  $("login").disabled = state !== "logged_out";
  $("logout").disabled = state === "logged_out";
  $("pause").disabled = state === "logged_out" || state === "paused";
  $("unpause").disabled = state !== "paused";
  if (hello && hello.read_only) {
    for (const b of document.querySelectorAll("button, #order input, #order select, #order textarea")) b.disabled = true;
  }
}

function renderState() {
  const badge = $("state");
  const secs = stateSince ? (Date.now() - stateSince.getTime()) / 1000 : null;
  badge.textContent = `${badge.dataset.label || "–"} ${stateSince ? mmss(secs) : ""}`;
  // the wait counts on while the phone rings; once answered it stays where it stopped
  if (pop && (badge.dataset.state === "ringing" || !waitShown)) {
    $("wait").textContent = mmss(pop.wait_seconds + (Date.now() - popAt) / 1000);
    waitShown = true;
  }
}

function onPop(p) {
  const fresh = !pop || pop.linkedid !== p.linkedid;
  pop = p;
  popAt = Date.now();
  waitShown = false;
  $("no-call").hidden = true;
  $("call").hidden = false;
  $("caller").textContent = p.caller || "未显示号码";
  $("caller-name").textContent = p.caller_name && p.caller_name !== p.caller ? p.caller_name : "";
  $("rtype").textContent = p.request_type_title;
  $("ivr").textContent = p.ivr_choice && p.ivr_choice !== "none" ? `按 ${p.ivr_choice}` : "未按键";
  $("queue").textContent = p.queue_title || p.queue;
  $("rang").textContent = when(p.rang_at);
  $("orders-count").textContent = `${p.open_orders.length} 件`;
  $("orders").tBodies[0].replaceChildren(...(p.open_orders.length ? p.open_orders.map((o) =>
    row(o.number, o.request_type_title, STATUS[o.status] || o.status, when(o.accepted_at), when(o.due_at),
      [o.topic, o.content].filter(Boolean).join(" · "))) : [none("无未办结工单", 6)]));
  $("calls-count").textContent = `${p.previous_calls.length} 次`;
  $("calls").tBodies[0].replaceChildren(...(p.previous_calls.length ? p.previous_calls.map((c) =>
    row(when(c.started_at), c.request_type_title || "–", DISPOSITIONS[c.disposition] || c.disposition,
      c.agent || "–", c.talk_seconds === null ? "–" : mmss(c.talk_seconds))) : [none("首次来电", 5)]));
  renderState();
  if (!fresh) return;
  if (form.content.value.trim() && form.linkedid.value && form.linkedid.value !== p.form.linkedid) {
    // the agent is still writing the previous call's order: keep it, offer the new call
    pending = p.form;
    $("use-new").hidden = false;
    $("form-result").className = "bad";
    $("form-result").textContent = "新来电：表单仍是上一通来电的内容，提交后再填写新来电";
  } else {
    prefill(p.form);
  }
}

function prefill(f) {
  pending = null;
  $("use-new").hidden = true;
  form.linkedid.value = f.linkedid;
  form.request_type.value = f.request_type;
  form.channel.value = f.channel;
  form.caller_number.value = f.caller_number;
  form.contact.value = f.contact;
  $("form-result").textContent = "";
}

function fieldError(e) {
  if (e.type === "string_too_long") return `最多 ${e.ctx.max_length} 个字`;
  if (e.type === "string_too_short" || e.type === "missing") return "必填";
  return e.msg.replace(/^Value error, /, "");
}

function clearErrors() {
  for (const e of form.querySelectorAll("em[data-error]")) e.textContent = "";
  for (const e of form.querySelectorAll(".invalid")) e.classList.remove("invalid");
}

function formBody() {
  const topics = [...form.querySelectorAll("input[name=topic]:checked")].map((b) => b.value);
  if (form.other_topic.value.trim()) topics.push(form.other_topic.value.trim());
  const body = {};
  for (const name of ["linkedid", "request_type", "channel", "caller_number", "contact", "citizen_name", "district", "address", "content"]) {
    body[name] = form[name].value;
  }
  body.topics = topics;
  body.emergency = form.emergency.checked;
  body.confidential = form.confidential.checked;
  return body;
}

async function post(path, body) {
  const r = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body ?? {}),
  });
  if (r.status === 401) { toLogin(); return { ok: false, status: 401, data: null }; }
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  return { ok: r.ok, status: r.status, data };
}

function detailOf(data) {
  const d = data && data.detail;
  if (!d) return "";
  if (typeof d === "string") return d;
  if (d.detail) return d.detail;
  return JSON.stringify(d);
}

async function act(action, body) {
  if (!hello) return;
  const out = $("action");
  out.className = "";
  out.textContent = "处理中…";
  const r = await post(`/api/agents/${encodeURIComponent(hello.agent)}/${action}`, body);
  out.className = r.ok ? "" : "bad";
  out.textContent = r.ok ? "已完成" : `失败（${r.status}）：${detailOf(r.data)}`;
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  clearErrors();
  const result = $("form-result");
  result.className = "";
  result.textContent = "提交中…";
  const r = await post("/api/agent/workorders", formBody());
  if (r.status === 201) {
    result.className = "good";
    result.textContent = `工单已创建：${r.data.number}（查询码 ${r.data.query_code}）`;
    for (const name of ["citizen_name", "district", "address", "content", "other_topic"]) form[name].value = "";
    for (const b of form.querySelectorAll("input[type=checkbox]")) b.checked = false;
    if (pending) prefill(pending);
    return;
  }
  result.className = "bad";
  if (r.status === 422 && Array.isArray(r.data?.detail)) {
    // field-level errors; everything typed stays in the form
    for (const e of r.data.detail) {
      const field = e.loc[e.loc.length - 1];
      const box = form.querySelector(`em[data-error="${field}"]`);
      if (box) box.textContent = fieldError(e);
      if (form[field] && form[field].classList) form[field].classList.add("invalid");
    }
    result.textContent = "请修正标红的字段，已填写的内容都保留着";
  } else {
    result.textContent = `提交失败（${r.status}）：${detailOf(r.data)}，已填写的内容都保留着`;
  }
});

const MATCHED = { number: "编号", content: "内容", transcript: "留言文字" };

$("search").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const out = $("search-result");
  const tbody = $("hits").querySelector("tbody");
  const q = $("search").q.value.trim();
  if (!q) return;
  out.className = "";
  out.textContent = "搜索中…";
  const r = await fetch(`/api/agent/search?q=${encodeURIComponent(q)}`);  // the login's cookie
  if (r.status === 401) { toLogin(); return; }
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  tbody.replaceChildren();
  if (!r.ok) {
    out.className = "bad";
    out.textContent = `搜索失败（${r.status}）：${detailOf(data)}`;
    return;
  }
  out.textContent = `找到 ${data.length} 张工单`;
  if (!data.length) tbody.append(none("没有匹配的工单", 7));
  for (const h of data) {
    tbody.append(row(h.number, h.request_type_title, STATUS[h.status] || h.status,
      when(h.accepted_at), MATCHED[h.matched_in] || h.matched_in, h.excerpt, h.transcript));
  }
});

$("use-new").onclick = () => { if (pending) prefill(pending); };
$("login").onclick = () => act("login");
$("logout").onclick = () => act("logout");
$("unpause").onclick = () => act("unpause");
$("pause").onclick = () => act("pause", { reason: $("reason").value });

function setLink(up, text) {
  const link = $("link");
  link.className = `link ${up ? "up" : "down"}`;
  link.textContent = text;
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const query = viewed ? `?agent=${encodeURIComponent(viewed)}` : "";
  const ws = new WebSocket(`${scheme}://${location.host}/api/agent/ws${query}`);
  ws.onopen = () => setLink(true, "实时");
  ws.onmessage = (msg) => {
    const m = JSON.parse(msg.data);
    if (m.kind === "hello") onHello(m);
    else if (m.kind === "state") onState(m);
    else if (m.kind === "pop") onPop(m);
    else if (m.kind === "error") setLink(false, "数据源中断");
  };
  ws.onclose = (ev) => {
    if (ev.code === 4401) { toLogin(); return; }  // no login, or it expired
    if (ev.code === 4403) { setLink(false, `无权查看：${ev.reason}`); return; }
    setLink(false, "连接中断，重连中…");
    setTimeout(connect, 2000);
  };
}

setInterval(renderState, 1000);
connect();
