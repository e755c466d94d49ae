// The wallboard: one WebSocket (/api/live/ws) pushes the whole board every second.
// Text goes in with textContent only: queue and agent names are data, not markup.
"use strict";

const STATES = [
  ["available", "空闲", "var(--good)"],
  ["ringing", "振铃", "var(--warn)"],
  ["on_call", "通话中", "var(--call)"],
  ["wrap_up", "话后处理", "var(--wrap)"],
  ["paused", "暂停", "#ff922b"],
  ["unreachable", "话机离线", "#e03131"],
  ["logged_out", "未登录", "#6c7a89"],
];
const REASONS = { break: "小休", meal: "用餐", training: "培训", meeting: "会议", leader_duty: "领导值班", no_answer: "未接" };
const STALE_MS = 5000;

let lastMessage = 0;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "style") node.style.cssText = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : String(c));
  return node;
}

function mmss(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.round(seconds);
  const pad = (n) => String(n).padStart(2, "0");
  if (s >= 86400) return `${Math.floor(s / 86400)}天`;
  if (s >= 3600) return `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
  return `${Math.floor(s / 60)}:${pad(s % 60)}`;
}

function pct(v) {
  return v === null || v === undefined ? "–" : `${v}%`;
}

function level(v, target) {
  if (v === null || v === undefined) return "";
  return v >= target ? "good" : v >= target - 10 ? "warn" : "bad";
}

function gauge(label, value, target) {
  const color = { good: "var(--good)", warn: "var(--warn)", bad: "var(--bad)" }[level(value, target)] || "#26323f";
  return el("div", { class: "gauge", style: `--p:${value ?? 0};--c:${color}` },
    el("span", {}, el("div", { class: `sl ${level(value, target)}` }, pct(value)), el("small", {}, label)));
}

function fig(value, key, cls = "") {
  return el("div", { class: "fig" }, el("div", { class: `v ${cls}` }, value), el("div", { class: "k" }, key));
}

function renderTotal(board) {
  const t = board.total;
  const box = document.getElementById("total");
  if (!t) { box.replaceChildren(fig("–", "暂无数据")); return; }
  const d = t.today;
  const target = board.target_percent;
  box.replaceChildren(
    fig(t.waiting, "排队中", t.waiting ? "warn" : ""),
    fig(mmss(t.longest_wait_seconds), "最长等待"),
    fig(d.offered, "今日呼入"),
    fig(d.answered, "今日接通"),
    fig(d.abandoned, "今日放弃"),
    ...board.thresholds.map((s) =>
      fig(pct(d.service_level[s]), `${s}秒服务水平`, level(d.service_level[s], target))),
    fig(mmss(d.asa_seconds), "平均应答"),
  );
}

function renderQueues(board) {
  const target = board.target_percent;
  const cards = board.queues.map((q) => {
    const w = q.window;
    const callers = el("ul", { class: "callers" },
      ...q.callers.slice(0, 3).map((c) => el("li", {}, el("span", {}, c.caller), el("span", {}, mmss(c.wait_seconds)))));
    return el("div", { class: `queue${q.below_target.length ? " alarm" : ""}`, "data-queue": q.queue },
      el("h2", {}, el("span", {}, q.title), el("span", { class: "dim" }, `等待 ${mmss(q.longest_wait_seconds)}`)),
      el("div", { class: "row" },
        el("div", {}, el("div", { class: `waiting${q.waiting ? " busy" : ""}` }, q.waiting), el("div", { class: "k" }, "排队中")),
        el("div", { class: "gauges" }, ...board.thresholds.map((s) => gauge(`${s}秒`, w.service_level[s], target)))),
      el("div", { class: "counts" },
        "今日 呼入 ", el("b", {}, q.today.offered), " 接通 ", el("b", {}, q.today.answered),
        " 放弃 ", el("b", {}, q.today.abandoned), " 均通话 ", el("b", {}, mmss(q.today.aht_seconds))),
      callers);
  });
  document.getElementById("queues").replaceChildren(...cards);
}

function renderAlarm(board) {
  const lines = board.queues.filter((q) => q.below_target.length).map((q) =>
    `${q.title} 近${q.window_minutes}分钟 ` +
    q.below_target.map((s) => `${s}秒服务水平 ${q.window.service_level[s]}%`).join("、"));
  const box = document.getElementById("alarm");
  box.hidden = lines.length === 0;
  box.textContent = lines.length ? `⚠ 低于目标 ${board.target_percent}%：${lines.join("；")}` : "";
}

function renderEmergencies(board) {
  const marks = board.emergencies || [];
  const box = document.getElementById("emergencies");
  box.hidden = marks.length === 0;
  const title = (name) => (board.queues.find((q) => q.queue === name) || {}).title || name;
  box.replaceChildren(...marks.map((m) => el("div", { class: "emergency", "data-call": m.linkedid },
    `🚨 突发 ${hhmm(m.at)} 来电 ${m.caller}` +
    (m.queue ? ` 排队中（${title(m.queue)}${m.raised ? "，已优先" : ""}）` : ` 坐席 ${m.agent}`) +
    ` · 标记人 ${m.by}`)));
}

function hhmm(iso) {
  const t = new Date(iso);
  return `${String(t.getHours()).padStart(2, "0")}:${String(t.getMinutes()).padStart(2, "0")}`;
}

function renderAgents(board) {
  const cols = STATES.map(([state, label, color]) => {
    const agents = board.agents.filter((a) => a.state === state);
    const list = state === "logged_out" ? [] : agents.map((a) => el("li", {},
      el("span", {}, `${a.name || a.id}${a.reason ? ` · ${REASONS[a.reason] || a.reason}` : ""}`),
      el("span", {}, mmss(a.state_seconds))));
    return el("div", { class: "state", style: `--c:${color}`, "data-state": state },
      el("h3", {}, el("span", {}, label), el("b", {}, agents.length)), el("ul", {}, ...list));
  });
  document.getElementById("agents").replaceChildren(...cols);
}

function render(board) {
  document.getElementById("city").textContent = board.city_name || "";
  document.getElementById("legend").textContent =
    `圆环：近${board.window_minutes}分钟服务水平 = 自进入队列起在规定秒数内接通的来电 ÷ 呼入来电（仍在等待且已超时的计为未达标）；目标 ${board.target_percent}%`;
  renderTotal(board);
  renderQueues(board);
  renderAlarm(board);
  renderEmergencies(board);
  renderAgents(board);
}

function setLink(up, text) {
  const link = document.getElementById("link");
  link.className = `link ${up ? "up" : "down"}`;
  link.textContent = text;
}

function connect() {
  // the login page's cookie (HttpOnly) goes with the WebSocket
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/api/live/ws`);
  ws.onmessage = (msg) => {
    const board = JSON.parse(msg.data);
    lastMessage = Date.now();
    if (board.error) { setLink(false, "数据源中断"); return; }
    setLink(true, "实时");
    render(board);
  };
  ws.onclose = (ev) => {
    if (ev.code === 4401) { location.href = "/login?next=/wallboard"; return; }  // log in again
    setLink(false, "连接中断，重连中…");
    setTimeout(connect, 2000);
  };
}

function tick() {
  document.getElementById("clock").textContent = new Date().toLocaleTimeString("zh-CN", { hour12: false });
  if (lastMessage && Date.now() - lastMessage > STALE_MS) setLink(false, "数据未更新");
}

tick();
setInterval(tick, 1000);
connect();
