// The faceswap page: tabs over one workspace, jobs polled from the server, errors in one banner.
"use strict";
const $ = (id) => document.getElementById(id);
const state = { overview: null, jobs: [], jobStatus: {}, faces: null, selected: new Set(), trainModel: null, lastPreview: 0 };

function fileUrl(path, version) { return "/files/" + path.split("/").map(encodeURIComponent).join("/") + (version ? "?v=" + version : ""); }

function showError(message) { $("error-text").textContent = message; $("error").hidden = false; }
function clearError() { $("error").hidden = true; $("error-text").textContent = ""; }

async function api(method, url, body, raw) {
  const options = { method, headers: { "X-Faceswap-UI": "1" } };
  if (raw) { options.body = raw; }
  else if (body !== undefined) { options.body = JSON.stringify(body); options.headers["Content-Type"] = "application/json"; }
  let response;
  try { response = await fetch(url, options); }
  catch (error) { throw new Error("The server does not answer (" + error.message + "); is `faceswap ui` still running?"); }
  const data = await response.json().catch(() => ({ error: "The server answered " + response.status + " without a message." }));
  if (!response.ok) throw new Error(data.error || ("HTTP " + response.status));
  return data;
}

// Run an action; a failure shows its sentence and leaves the page as it was.
async function act(action) {
  clearError();
  try { return await action(); } catch (error) { showError(error.message); return null; }
}

function fill(listId, items, datalistId) {
  const list = $(listId);
  list.replaceChildren(...items.map((item) => { const li = document.createElement("li"); li.textContent = item; return li; }));
  if (datalistId) $(datalistId).replaceChildren(...items.map((item) => { const o = document.createElement("option"); o.value = item; return o; }));
}

async function refreshOverview() {
  const data = await api("GET", "/api/overview");
  state.overview = data;
  $("workspace-name").textContent = data.workspace;
  fill("list-videos", data.videos, "dl-videos");
  fill("list-faces", data.faces_folders, "dl-faces");
  fill("list-models", data.models, "dl-models");
  fill("list-runs", data.classifier_runs, "dl-runs");
  $("dl-images").replaceChildren(...data.images.map((item) => { const o = document.createElement("option"); o.value = item; return o; }));
  renderJobs(data.jobs);
}

// ---------------------------------------------------------------- tabs
function showTab(name) {
  document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
  document.querySelectorAll("section.tab").forEach((s) => { s.hidden = s.id !== "tab-" + name; });
  location.hash = name;
}
document.querySelectorAll("#tabs button").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
$("error-close").addEventListener("click", clearError);
window.addEventListener("hashchange", () => { if (location.hash) showTab(location.hash.slice(1)); });

// ---------------------------------------------------------------- jobs
function renderJobs(jobs) {
  const finished = jobs.filter((job) => ["done", "failed", "stopped", "lost"].includes(job.status) && state.jobStatus[job.id] && state.jobStatus[job.id] !== job.status);
  state.jobs = jobs;
  jobs.forEach((job) => { state.jobStatus[job.id] = job.status; });
  const signature = JSON.stringify(jobs.slice(0, 30).map((job) => [job.id, job.status, job.progress, job.error]));
  if (signature !== state.jobsSignature) { state.jobsSignature = signature; drawJobs(jobs); }
  finished.forEach(onJobFinished);
}

function drawJobs(jobs) {
  $("jobs").replaceChildren(...jobs.slice(0, 30).map((job) => {
    const row = document.createElement("tr");
    row.className = "job"; row.dataset.id = job.id; row.dataset.kind = job.kind; row.dataset.status = job.status;
    const title = document.createElement("td"); title.textContent = job.title; title.title = job.command;
    const status = document.createElement("td"); status.className = "job-status"; status.textContent = job.status;
    if (job.error) { const e = document.createElement("div"); e.className = "job-error"; e.textContent = job.error; status.append(e); }
    const progress = document.createElement("td"); progress.textContent = job.progress == null ? "" : job.progress + "%";
    const buttons = document.createElement("td");
    const log = document.createElement("button"); log.textContent = "log"; log.addEventListener("click", () => act(() => showLog(job.id)));
    buttons.append(log);
    if (job.status === "running" || job.status === "starting") {
      const stop = document.createElement("button"); stop.textContent = "stop"; stop.className = "danger";
      stop.addEventListener("click", () => act(async () => { await api("POST", "/api/jobs/" + job.id + "/stop"); await refreshOverview(); }));
      buttons.append(stop);
    }
    row.append(title, status, progress, buttons);
    return row;
  }));
}

async function showLog(id) {
  const data = await api("GET", "/api/jobs/" + id + "/log");
  $("job-log").textContent = data.lines.join("\n"); $("job-log").hidden = false;
}

function onJobFinished(job) {
  if (job.status === "failed" || job.status === "lost") showError(job.title + " failed: " + job.error);
  refreshOverview().catch(() => {});
  if (job.kind === "extract" && job.status === "done") { $("faces-folder").value = job.outputs.faces; act(() => loadFaces(job.outputs.debug_video)); }
  if (job.kind === "convert" && job.status === "done") showResult(job.outputs.side_by_side);
  if (job.kind === "evaluate" && job.status !== "running") act(() => showEvaluation(job));
  if (job.kind === "classify") act(() => showClassify(job));
}

async function pollJobs() {
  try { renderJobs(await api("GET", "/api/jobs")); } catch (error) { /* the server may be restarting; the next poll tries again */ }
  if (state.trainModel) { try { await refreshTraining(); } catch (error) { /* folder not written yet */ } }
}

// ---------------------------------------------------------------- upload
$("upload-file").addEventListener("change", () => act(async () => {
  const file = $("upload-file").files[0];
  if (!file) return;
  const limit = (state.overview ? state.overview.max_upload_mb : 2048) * 1048576;
  if (file.size > limit) throw new Error("'" + file.name + "' is larger than the upload limit of " + (limit / 1048576) + " MiB; copy it into the workspace folder instead.");
  $("upload-status").textContent = "uploading " + file.name + " ...";
  try {
    const data = await api("PUT", "/api/upload?name=" + encodeURIComponent(file.name), undefined, file);
    $("upload-status").textContent = "uploaded " + data.path;
    if (/\.(mp4|mov|mkv|webm|avi|m4v)$/i.test(data.path)) { $("extract-input").value = data.path; $("convert-input").value = $("convert-input").value || data.path; }
    await refreshOverview();
  } catch (error) { $("upload-status").textContent = "upload refused"; throw error; }
}));

// ---------------------------------------------------------------- extract and faces
$("extract-start").addEventListener("click", () => act(async () => {
  const input = $("extract-input").value.trim();
  const output = $("extract-output").value.trim() || ("faces/" + input.split("/").pop().replace(/\.[^.]+$/, ""));
  $("extract-output").value = output;
  await api("POST", "/api/jobs/extract", { input, output, debug_video: $("extract-debug").checked, reference: $("extract-reference").value.trim() || null });
  await refreshOverview();
}));

async function loadFaces(debugVideo) {
  const folder = $("faces-folder").value.trim();
  const data = await api("GET", "/api/faces?folder=" + encodeURIComponent(folder));
  state.faces = data; state.selected.clear();
  $("faces-count").textContent = data.faces.length + " faces listed, " + data.trashed + " in the trash";
  $("gallery").replaceChildren(...data.faces.map((face) => {
    const tile = document.createElement("div"); tile.className = "face"; tile.dataset.name = face.name;
    const img = document.createElement("img"); if (data.faces.length > 300) img.loading = "lazy"; img.src = fileUrl(face.face); img.alt = face.name;
    tile.append(img);
    if (face.mask) { const m = document.createElement("div"); m.className = "mask"; const url = "url(" + fileUrl(face.mask) + ")"; m.style.maskImage = url; m.style.webkitMaskImage = url; tile.append(m); }
    const label = document.createElement("span"); label.textContent = face.frame + (face.track ? " t" + face.track : ""); tile.append(label);
    tile.addEventListener("click", () => { tile.classList.toggle("selected"); tile.classList.contains("selected") ? state.selected.add(face.name) : state.selected.delete(face.name); });
    return tile;
  }));
  if (debugVideo) { $("debug-video").src = fileUrl(debugVideo); $("debug-video").hidden = false; }
}
$("faces-load").addEventListener("click", () => act(() => loadFaces(guessDebugVideo($("faces-folder").value.trim()))));
$("show-masks").addEventListener("change", () => $("gallery").classList.toggle("no-masks", !$("show-masks").checked));
function guessDebugVideo(folder) { return state.overview && state.overview.videos.includes(folder + "_debug.mp4") ? folder + "_debug.mp4" : null; }

$("faces-remove").addEventListener("click", () => act(async () => {
  const folder = $("faces-folder").value.trim();
  const result = await api("POST", "/api/faces/remove", { folder, names: [...state.selected] });
  await loadFaces(guessDebugVideo(folder));
  $("faces-count").textContent += " (removed " + result.changed.length + ")";
}));
$("faces-restore").addEventListener("click", () => act(async () => {
  const folder = $("faces-folder").value.trim();
  await api("POST", "/api/faces/restore", { folder, all: true });
  await loadFaces(guessDebugVideo(folder));
}));

// ---------------------------------------------------------------- train
function trainRequest(resume) {
  const number = (id) => { const v = $(id).value.trim(); return v === "" ? null : Number(v); };
  return { faces_a: $("train-a").value.trim(), faces_b: $("train-b").value.trim(), model: $("train-model").value.trim(),
           preset: $("train-preset").value, steps: number("train-steps"), minutes: number("train-minutes"),
           save_every: number("train-save-every") || 250, log_every: Math.max(1, Math.min(50, Math.floor((number("train-save-every") || 250) / 2))),
           segmenter: $("train-segmenter").value, perceptual: $("train-perceptual").checked, resume };
}
async function startTraining(resume) {
  const job = await api("POST", "/api/jobs/train", trainRequest(resume));
  state.trainModel = job.outputs.model; state.lastPreview = 0;
  await refreshOverview();
}
$("train-start").addEventListener("click", () => act(() => startTraining(false)));
$("train-resume").addEventListener("click", () => act(() => startTraining(true)));
$("train-stop").addEventListener("click", () => act(async () => {
  const running = state.jobs.find((job) => job.kind === "train" && (job.status === "running" || job.status === "starting") && job.outputs.model === $("train-model").value.trim());
  if (!running) throw new Error("No training of '" + $("train-model").value.trim() + "' is running.");
  await api("POST", "/api/jobs/" + running.id + "/stop");
  await refreshOverview();
}));
$("train-model").addEventListener("change", () => { state.trainModel = $("train-model").value.trim() || null; state.lastPreview = 0; act(refreshTraining); });

async function refreshTraining() {
  const data = await api("GET", "/api/training?model=" + encodeURIComponent(state.trainModel));
  const job = state.jobs.find((j) => j.kind === "train" && j.outputs.model === data.model);
  const eta = data.eta_s == null ? "" : ", about " + formatSeconds(data.eta_s) + " left";
  const target = data.target_steps ? " of " + data.target_steps : "";
  $("train-status").textContent = data.model + ": step " + data.step + target + eta + (job ? " (" + job.status + ")" : "");
  if (data.preview && data.preview_version !== state.lastPreview) {
    state.lastPreview = data.preview_version;
    $("train-preview").src = fileUrl(data.preview, data.preview_version); $("train-preview").hidden = false;
  }
  drawCurve(data.curve);
  if (state.fillTrainForm && data.settings.faces_a) { state.fillTrainForm = false; fillTrainForm(data.settings); }
}
function fillTrainForm(settings) {
  const set = (id, value) => { if (value !== null && value !== undefined) $(id).value = value; };
  set("train-a", settings.faces_a); set("train-b", settings.faces_b); set("train-preset", settings.preset);
  set("train-steps", settings.steps); set("train-minutes", settings.minutes); set("train-save-every", settings.save_every);
  set("train-segmenter", settings.segmenter); $("train-perceptual").checked = !!settings.perceptual;
}
function formatSeconds(s) { return s >= 3600 ? (s / 3600).toFixed(1) + " h" : s >= 60 ? Math.round(s / 60) + " min" : Math.round(s) + " s"; }

function drawCurve(points) {
  const canvas = $("train-curve"), g = canvas.getContext("2d");
  g.clearRect(0, 0, canvas.width, canvas.height);
  const series = [["loss", "#1f77b4"], ["val_loss", "#ff7f0e"]].map(([key, colour]) => [points.filter((p) => p[key] != null).map((p) => [p.step, p[key]]), colour]);
  const all = series.flatMap(([pts]) => pts);
  if (all.length < 1) { g.fillText("no metrics yet", 10, 20); return; }
  const xs = all.map((p) => p[0]), ys = all.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const pad = 30, w = canvas.width - 2 * pad, h = canvas.height - 2 * pad;
  const X = (x) => pad + (x1 > x0 ? (x - x0) / (x1 - x0) : 0.5) * w, Y = (y) => pad + h - (y1 > y0 ? (y - y0) / (y1 - y0) : 0.5) * h;
  g.strokeStyle = "#999"; g.strokeRect(pad, pad, w, h);
  g.fillStyle = "#333"; g.fillText(y1.toFixed(3), 2, pad); g.fillText(y0.toFixed(3), 2, pad + h); g.fillText("step " + x1, pad + w - 50, pad + h + 15);
  for (const [pts, colour] of series) {
    g.strokeStyle = colour; g.beginPath();
    pts.forEach(([x, y], i) => (i ? g.lineTo(X(x), Y(y)) : g.moveTo(X(x), Y(y))));
    g.stroke();
    pts.forEach(([x, y]) => { g.fillStyle = colour; g.fillRect(X(x) - 1.5, Y(y) - 1.5, 3, 3); });
  }
}

// ---------------------------------------------------------------- convert and evaluate
function convertSettings() {
  return { input: $("convert-input").value.trim(), model: $("convert-model").value.trim(),
           alignments: $("convert-alignments").value.trim() || null, mask: $("convert-mask").value, color: $("convert-color").value };
}
$("convert-preview-btn").addEventListener("click", () => act(async () => {
  $("convert-preview-note").textContent = "converting one frame ...";
  try {
    const data = await api("POST", "/api/convert/preview", { ...convertSettings(), frame: Number($("convert-frame").value || 0) });
    $("convert-preview").src = fileUrl(data.image); $("convert-preview").hidden = false;
    $("convert-preview-note").textContent = "before | after, frame " + $("convert-frame").value + ": " + data.faces_swapped + " face(s) swapped, mask " + data.mask + ", " + data.seconds + " s" + (data.warnings.length ? "; " + data.warnings.join("; ") : "");
  } catch (error) { $("convert-preview-note").textContent = ""; throw error; }
}));
$("convert-start").addEventListener("click", () => act(async () => {
  await api("POST", "/api/jobs/convert", { ...convertSettings(), output: $("convert-output").value.trim() });
  await refreshOverview();
}));
function showResult(path) { $("convert-result").src = fileUrl(path); $("convert-result").hidden = false; }
$("evaluate-start").addEventListener("click", () => act(async () => {
  const s = convertSettings();
  await api("POST", "/api/jobs/evaluate", { video: $("convert-output").value.trim(), reference: s.input, model: s.model || null });
  await refreshOverview();
}));
async function showEvaluation(job) { $("evaluate-report").textContent = (await api("GET", "/api/jobs/" + job.id + "/log")).lines.slice(-30).join("\n"); }

// ---------------------------------------------------------------- classify
$("classify-start").addEventListener("click", () => act(async () => {
  await api("POST", "/api/jobs/classify", { action: $("classify-action").value, run: $("classify-run").value.trim(),
    data: $("classify-data").value.trim() || null, dataset: $("classify-dataset").value, model: $("classify-model").value,
    epochs: Number($("classify-epochs").value || 3), image: $("classify-image").value.trim() || null });
  await refreshOverview();
}));
async function showClassify(job) {
  $("classify-log").textContent = (await api("GET", "/api/jobs/" + job.id + "/log")).lines.slice(-20).join("\n");
  if (job.status !== "done" || job.title.startsWith("classify dataset")) return;
  const pictures = await api("GET", "/api/pictures?folder=" + encodeURIComponent(job.outputs.run));
  $("classify-pictures").replaceChildren(...pictures.map((p) => { const img = document.createElement("img"); img.src = fileUrl(p, Date.now()); img.title = p; return img; }));
}

// ---------------------------------------------------------------- start: reopening the page finds running work again
act(async () => {
  await refreshOverview();
  const training = state.jobs.find((job) => job.kind === "train" && (job.status === "running" || job.status === "starting")) || state.jobs.find((job) => job.kind === "train");
  if (training) { state.trainModel = training.outputs.model; $("train-model").value = training.outputs.model; state.fillTrainForm = true; }
  if (location.hash) showTab(location.hash.slice(1));
  document.body.dataset.ready = "1";
  performance.mark("faceswap-ready");  // the page's first full render, with the workspace listed (scripts/bench_ui.py)
});
setInterval(pollJobs, 2000);  // light on a busy machine: training shares its CPU with this page
