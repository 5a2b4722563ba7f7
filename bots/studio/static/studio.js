// bots studio: the page. Plain JavaScript on CodeMirror 6 (the global CM, see jsbuild/) and
// Mermaid, both shipped in vendor/. Everything it knows comes from the JSON API in server.py.
"use strict";

const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
};

async function call(method, path, body) {
  const options = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({ error: `${response.status} ${response.statusText}` }));
  if (!response.ok && response.status !== 409) throw new Error(data.error || `${response.status}`);
  data.status = response.status;
  return data;
}
const get = (path) => call("GET", path);
const post = (path, body) => call("POST", path, body);

function status(text) { $("status").textContent = text; }

const studio = {
  bots: [], files: [], bot: null, view: null, open: null,
  buffers: new Map(),   // path -> {state, saved, version}
  coverage: null,       // {reached: {"flow:node": bool}, text} from the last test run
  where: { flow: null, node: null },
  graphFlow: null,
  pane: "chat",
};
window.studio = studio;  // for the browser tests and the curious

// --- the editor -----------------------------------------------------------------------------

function toRange(doc, d) {
  const line = doc.line(Math.min(Math.max(d.line, 1), doc.lines));
  const from = Math.min(line.from + Math.max(d.column - 1, 0), line.to);
  let to = from;
  const rest = doc.sliceString(from, line.to);
  const word = rest.match(/^[^\s,\]\}]+/);
  to = from + (word ? word[0].length : 0);
  if (to === from) return { from: Math.max(line.from, from - 1), to: Math.max(from, line.to) };
  return { from, to };
}

function diagnosticsFor(state, found) {
  return found.map((d) => {
    const { from, to } = toRange(state.doc, d);
    const item = { from, to, severity: d.severity, message: d.message, source: `${d.line}:${d.column}` };
    const guess = d.message.match(/\(did you mean '([^']+)'\?\)/);
    if (guess) {
      item.actions = [{ name: `use '${guess[1]}'`, apply(view, a, b) { view.dispatch({ changes: { from: a, to: b, insert: guess[1] } }); } }];
    }
    return item;
  });
}

function showProblems(path, result) {
  const list = $("problem-list");
  list.replaceChildren();
  for (const d of result.diagnostics) {
    list.append(el("li", { class: `sev-${d.severity}`, onclick: () => openAt(d.file, d.line, d.column) }, d.text));
  }
  for (const d of result.elsewhere) {
    list.append(el("li", { class: `sev-${d.severity} elsewhere`, onclick: () => openAt(d.file, d.line, d.column) }, d.text));
  }
  const here = result.diagnostics.length;
  $("problems-head").textContent = result.errors + result.warnings === 0
    ? "Problems: none (no problems found)"
    : `Problems: ${here} in this file; ${result.errors} error(s), ${result.warnings} warning(s) in the project`;
  markDrafts(result.drafts);
}

function makeState(path, text) {
  const check = async (view) => {
    const result = await post("/api/check", { path, text: view.state.doc.toString() });
    if (studio.open === path) showProblems(path, result);
    return diagnosticsFor(view.state, result.diagnostics);
  };
  return CM.EditorState.create({
    doc: text,
    extensions: [
      CM.basicSetup,
      CM.yaml(),
      CM.lintGutter(),
      CM.linter(check, { delay: 400 }),
      CM.keymap.of([{ key: "Mod-s", preventDefault: true, run: () => { save(false); return true; } }]),
      CM.EditorView.updateListener.of((update) => { if (update.docChanged) showDirty(); }),
    ],
  });
}

function currentText() { return studio.view.state.doc.toString(); }

function showDirty() {
  const buffer = studio.buffers.get(studio.open);
  const dirty = buffer && currentText() !== buffer.saved;
  $("dirty").hidden = !dirty;
  $("save").disabled = !buffer;
}

async function openFile(path) {
  if (studio.open === path) return;
  if (studio.open) studio.buffers.get(studio.open).state = studio.view.state;
  let buffer = studio.buffers.get(path);
  if (!buffer) {
    const file = await get(`/api/file?path=${encodeURIComponent(path)}`);
    const typed = file.draft === null || file.draft === undefined ? file.text : file.draft;
    buffer = { state: makeState(path, typed), saved: file.text, version: file.version };
    studio.buffers.set(path, buffer);
  }
  studio.open = path;
  studio.view.setState(buffer.state);
  $("filename").textContent = path;
  $("conflict").hidden = true;
  for (const a of document.querySelectorAll("#files a")) a.classList.toggle("open", a.dataset.path === path);
  showDirty();
  CM.forceLinting(studio.view);
}

async function openAt(path, line, column) {
  if (!path) return;
  await openFile(path);
  const doc = studio.view.state.doc;
  const target = doc.line(Math.min(Math.max(line || 1, 1), doc.lines));
  const at = Math.min(target.from + Math.max((column || 1) - 1, 0), target.to);
  studio.view.dispatch({ selection: { anchor: at }, scrollIntoView: true });
  studio.view.focus();
}
studio.openAt = openAt;

async function save(force) {
  const path = studio.open;
  if (!path) return;
  const buffer = studio.buffers.get(path);
  const text = currentText();
  const result = await post("/api/save", { path, text, version: buffer.version, force });
  if (result.conflict) {
    buffer.disk = result;
    $("conflict").hidden = false;
    status(`not saved: ${path} changed on disk`);
    return;
  }
  buffer.saved = text;
  buffer.version = result.version;
  $("conflict").hidden = true;
  showDirty();
  status(`saved ${path}`);
  markDrafts(null, path);
}

function takeDisk() {
  const buffer = studio.buffers.get(studio.open);
  if (!buffer.disk) return;
  const view = studio.view;
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: buffer.disk.disk_text } });
  buffer.saved = buffer.disk.disk_text;
  buffer.version = buffer.disk.disk_version;
  $("conflict").hidden = true;
  showDirty();
}

// --- the file tree --------------------------------------------------------------------------

function label(path) {
  const parts = path.split("/");
  return parts[parts.length - 1];
}

function renderFiles() {
  const nav = $("files");
  nav.replaceChildren();
  let group = null;
  let tests = null;
  for (const file of studio.files) {
    const parts = file.path.split("/");
    const heading = parts[0] === "flows" ? `flows/${parts[1]}` : parts[0];
    if (heading !== group) {
      group = heading;
      tests = null;
      nav.append(el("div", { class: "group" }, heading));
    }
    if (file.kind === "test" && tests !== group) {
      tests = group;
      nav.append(el("div", { class: "folder" }, "tests/"));
    }
    const link = el("a", { href: "#", "data-path": file.path, class: file.kind === "test" ? "sub" : "" },
      label(file.path), el("span", { class: "kind" }, file.kind));
    if (file.draft) link.classList.add("draft");
    link.addEventListener("click", (event) => { event.preventDefault(); openFile(file.path); });
    nav.append(link);
  }
}

function markDrafts(drafts, saved) {
  for (const a of document.querySelectorAll("#files a[data-path]")) {
    if (drafts) a.classList.toggle("draft", drafts.includes(a.dataset.path));
    else if (a.dataset.path === saved) a.classList.remove("draft");
  }
}

// --- the panes ------------------------------------------------------------------------------

function currentBot() { return studio.bots.find((b) => b.id === studio.bot); }

function showPane(name) {
  studio.pane = name;
  for (const tab of document.querySelectorAll("#tabs button")) tab.setAttribute("aria-selected", String(tab.dataset.pane === name));
  for (const pane of document.querySelectorAll(".pane")) pane.hidden = pane.id !== `pane-${name}`;
  if (name === "graph") drawGraph(studio.graphFlow === "" ? "" : studio.where.flow || studio.graphFlow);
  if (name === "translations") loadTranslations();
}

// chat

function say(kind, text) {
  const log = $("chat-log");
  log.append(el("div", { class: `msg ${kind}` }, text));
  log.scrollTop = log.scrollHeight;
}

async function chat(action, value = "") {
  for (const b of document.querySelectorAll("#chat-log button.choice")) b.disabled = true;
  let result;
  try {
    result = await post("/api/chat", { bot: studio.bot, action, value });
  } catch (err) {
    say("note", String(err.message));
    return;
  }
  for (const note of result.notes) say("note", note);
  $("chat-errors").hidden = !result.errors || result.errors.length === 0;
  $("chat-errors").textContent = (result.errors || []).join("\n");
  const log = $("chat-log");
  for (const m of result.messages) {
    if (m.note) { say("note", m.note); continue; }
    say("bot", m.text);
    if (m.document) say("note", `(document: ${m.document})`);
    if (m.buttons.length) {
      const row = el("div", { class: "choices" });
      for (const b of m.buttons) {
        row.append(el("button", { class: "choice", onclick: () => { say("me", b.label); chat("press", b.data); } }, b.label));
      }
      log.append(row);
    }
  }
  log.scrollTop = log.scrollHeight;
  if (result.lang) $("chat-lang").value = result.lang;
  studio.where = { flow: result.flow, node: result.node };
  $("chat-where").textContent = result.node ? `at ${result.flow}: ${result.node}` : "";
  if (studio.pane === "graph") {
    if (result.flow && result.flow !== studio.graphFlow && studio.graphFlow !== "") drawGraph(result.flow);
    else highlight();
  }
}

// graph

let graphNumber = 0;
let graphBoxes = {};

function boxOf(node) {
  const found = node.id.match(/flowchart-(.+)-\d+$/);
  return found ? found[1] : null;
}

function highlight() {
  for (const node of document.querySelectorAll("#graph g.node")) {
    const box = graphBoxes[boxOf(node)];
    node.classList.toggle("current", !!box && box.flow === studio.where.flow && box.node === studio.where.node);
    const reached = box && studio.coverage && $("graph-coverage").checked ? studio.coverage.reached[`${box.flow}:${box.node}`] : undefined;
    node.classList.toggle("reached", reached === true);
    node.classList.toggle("missed", reached === false);
  }
  const text = $("graph-coverage-text");
  text.hidden = !($("graph-coverage").checked && studio.coverage);
  if (!text.hidden) {
    text.textContent = "blue glow: where the chat stands · green: a test reaches it · red, dashed: no test does\n\n"
      + studio.coverage.text;
  }
}

async function drawGraph(flow) {
  const bot = currentBot();
  if (!bot) return;
  const select = $("graph-flow");
  if (flow !== undefined) studio.graphFlow = flow;
  if (studio.graphFlow === null || (studio.graphFlow && !bot.flows.includes(studio.graphFlow))) {
    studio.graphFlow = studio.where.flow && bot.flows.includes(studio.where.flow) ? studio.where.flow : bot.start;
  }
  select.replaceChildren(el("option", { value: "" }, "all flows"), ...bot.flows.map((f) => el("option", { value: f }, f)));
  select.value = studio.graphFlow;
  const notes = $("graph-notes");
  let result;
  try {
    result = await get(`/api/graph?bot=${encodeURIComponent(bot.id)}&flow=${encodeURIComponent(studio.graphFlow)}`);
  } catch (err) {
    notes.hidden = false;
    notes.textContent = err.message;
    return;
  }
  notes.hidden = !(result.refused && result.refused.length) && !result.error;
  notes.textContent = result.error || "The flows have errors: this is the last version without them.\n" + (result.refused || []).join("\n");
  if (result.error) return;
  graphBoxes = result.boxes;
  const { svg } = await mermaid.render(`graph-${++graphNumber}`, result.mermaid);
  const holder = $("graph");
  holder.innerHTML = svg;
  for (const node of holder.querySelectorAll("g.node")) {
    const box = graphBoxes[boxOf(node)];
    if (!box) continue;
    node.dataset.flow = box.flow;
    node.dataset.node = box.node;
    node.addEventListener("click", () => openAt(box.file, box.line, box.column));
  }
  highlight();
}

// tests

async function runTests() {
  $("run-tests").disabled = true;
  $("tests-summary").textContent = "running…";
  try {
    const result = await post("/api/tests", { bot: studio.bot });
    $("tests-summary").textContent = result.summary;
    $("tests-summary").className = result.failed ? "bad" : "ok";
    const holder = $("tests-failures");
    holder.replaceChildren();
    for (const f of result.failures) {
      const link = el("a", { href: "#" }, `${f.file}:${f.line}`);
      link.addEventListener("click", (event) => { event.preventDefault(); openAt(f.file, f.line, f.column); });
      holder.append(el("div", { class: "failure" }, link, el("pre", {}, f.text)));
    }
    $("tests-coverage").textContent = result.coverage;
    studio.coverage = { reached: result.reached, text: result.coverage };
    if (result.refused && result.refused.length) holder.prepend(el("div", { class: "warning" }, "The flows have errors: the tests ran on the last version without them."));
  } catch (err) {
    $("tests-summary").textContent = err.message;
  } finally {
    $("run-tests").disabled = false;
  }
}

// translations

async function loadTranslations() {
  const holder = $("tr-table");
  let data;
  try {
    data = await get(`/api/translations?bot=${encodeURIComponent(studio.bot)}`);
  } catch (err) {
    holder.textContent = err.message;
    return;
  }
  const todo = $("tr-todo").checked;
  const table = el("table");
  table.append(el("tr", {}, el("th", {}, "where"), el("th", {}, `source (${data.source})`), ...data.languages.map((l) => el("th", {}, l))));
  let missing = 0, fuzzy = 0;
  for (const row of data.rows) {
    const states = Object.values(row.cells).map((c) => c.state);
    missing += states.filter((s) => s === "missing").length;
    fuzzy += states.filter((s) => s === "fuzzy").length;
    if (todo && states.every((s) => s === "translated")) continue;
    const tr = el("tr", {}, el("td", { class: "where" }, row.where.join("\n")), el("td", { class: "source" }, row.id));
    for (const lang of data.languages) {
      const cell = row.cells[lang];
      if (!cell) { tr.append(el("td", {}, "")); continue; }
      tr.append(translationCell(row, lang, cell));
    }
    table.append(tr);
  }
  $("tr-counts").textContent = `${data.rows.length} texts; ${missing} missing, ${fuzzy} fuzzy`;
  holder.replaceChildren(table);
}

function translationCell(row, lang, cell) {
  const td = el("td", { class: cell.state, "data-lang": lang });
  const badge = el("span", { class: "state" }, cell.state);
  const area = el("textarea", { "aria-label": `${lang}: ${row.id}` });
  area.value = cell.text;
  if (row.plural) area.readOnly = true;
  const button = el("button", { class: "cell-save", hidden: "" }, "Save");
  const store = async () => {
    try {
      const result = await post("/api/translation", {
        bot: studio.bot, domain: row.domain, lang, id: row.id, context: row.context, text: area.value,
      });
      td.className = result.state;
      badge.textContent = result.state;
      button.hidden = true;
      status(`saved the ${lang} translation into locales/${lang}/LC_MESSAGES/${row.domain}.po`);
    } catch (err) {
      status(err.message);
    }
  };
  area.addEventListener("input", () => { button.hidden = false; });
  area.addEventListener("keydown", (event) => { if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); store(); } });
  button.addEventListener("click", store);
  td.append(badge, button, area);
  return td;
}

// --- start ----------------------------------------------------------------------------------

function chooseBot(id) {
  studio.bot = id;
  const bot = currentBot();
  $("chat-lang").replaceChildren(...bot.locales.map((l) => el("option", { value: l }, l)));
  $("chat-log").replaceChildren();
  studio.graphFlow = null;
  studio.coverage = null;
  $("tests-summary").textContent = "";
  $("tests-failures").replaceChildren();
  $("tests-coverage").textContent = "";
  chat("open");
  if (studio.pane === "graph") drawGraph();
  if (studio.pane === "translations") loadTranslations();
}

async function start() {
  mermaid.initialize({ startOnLoad: false, securityLevel: "strict", flowchart: { useMaxWidth: true } });
  studio.view = new CM.EditorView({ parent: $("editor"), state: CM.EditorState.create({ doc: "" }) });
  const state = await get("/api/state");
  studio.bots = state.bots;
  studio.files = state.files;
  $("project").textContent = state.project;
  renderFiles();
  $("bot").replaceChildren(...state.bots.map((b) => el("option", { value: b.id }, `${b.id} (${b.name})`)));
  $("bot").addEventListener("change", () => chooseBot($("bot").value));
  for (const tab of document.querySelectorAll("#tabs button")) tab.addEventListener("click", () => showPane(tab.dataset.pane));
  $("save").addEventListener("click", () => save(false));
  $("overwrite").addEventListener("click", () => save(true));
  $("take-disk").addEventListener("click", takeDisk);
  $("chat-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("chat-input").value;
    if (!text.trim()) return;
    $("chat-input").value = "";
    say("me", text);
    chat("send", text);
  });
  $("chat-restart").addEventListener("click", () => { say("me", "/start"); chat("restart"); });
  $("chat-back").addEventListener("click", () => { say("me", "/back"); chat("back"); });
  $("chat-lang").addEventListener("change", () => chat("lang", $("chat-lang").value));
  $("chat-where").addEventListener("click", (event) => {
    event.preventDefault();
    const box = Object.values(graphBoxes).find((b) => b.flow === studio.where.flow && b.node === studio.where.node);
    if (box) openAt(box.file, box.line, box.column);
    else showPane("graph");
  });
  $("graph-flow").addEventListener("change", () => drawGraph($("graph-flow").value));
  $("graph-coverage").addEventListener("change", async () => {
    if ($("graph-coverage").checked && !studio.coverage) await runTests();
    highlight();
  });
  $("run-tests").addEventListener("click", runTests);
  $("tr-todo").addEventListener("change", loadTranslations);
  window.addEventListener("beforeunload", (event) => {
    if (studio.open) studio.buffers.get(studio.open).state = studio.view.state;
    const unsaved = [...studio.buffers.values()].some((b) => b.state.doc.toString() !== b.saved);
    if (unsaved) { event.preventDefault(); event.returnValue = ""; }
  });
  if (studio.bots.length) chooseBot(studio.bots[0].id);
  const first = studio.files.find((f) => f.kind === "flow");
  if (first) await openFile(first.path);
  status("ready");
  document.body.dataset.ready = "yes";
}

start().catch((err) => { status(`the studio could not start: ${err.message}`); });
