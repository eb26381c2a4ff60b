/**
 * The exported site's page: loads manifest.json and the weights, picks the backend, then segments
 * a NIfTI the user drops or picks (or `?input=<url>`), shows progress, the per-class voxel counts and
 * the result in the viewer, and offers the label map as .nii.gz on the input's grid.
 * Its state is in the DOM for people and headless browsers alike: `data-status` on <body>
 * (loading → ready → running → done, or error), `data-backend`, and `data-count` per class row.
 */
import { createLogger, isVoxelpipeError, spacingOf, type Volume } from "@voxelpipe/core";
import { setNiftiWarningHandler } from "@voxelpipe/transforms";
import { MANIFEST_FILE, type Manifest, parseManifest } from "../export/manifest.js";
import { backendChoice, startBackend } from "./backend.js";
import { decodeNifti, encodeLabelMap, fetchBytes } from "./nifti-io.js";
import { Segmenter } from "./segmenter.js";
import { classColour, showResult } from "./view.js";

type Status = "loading" | "ready" | "running" | "done" | "error";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const body = document.body;
const logger = createLogger({
  write: (lv, line) => (lv === "warn" || lv === "error" ? console.warn : console.info)(line),
});
setNiftiWarningHandler((m) => logger.warn(m));

function setStatus(s: Status, text: string): void {
  body.dataset.status = s;
  $("status").textContent = text;
}

function showError(e: unknown): void {
  const d = isVoxelpipeError(e) ? e.diagnostics[0] : undefined;
  const text = d
    ? [
        `${d.code}: ${d.message}`,
        d.expected && `expected: ${d.expected}`,
        d.got && `got: ${d.got}`,
        d.hint && `hint: ${d.hint}`,
      ]
        .filter(Boolean)
        .join("\n")
    : String((e as Error)?.message ?? e);
  const pre = $("error");
  pre.textContent = text;
  pre.hidden = false;
  if (d) body.dataset.errorCode = d.code;
  setStatus("error", "error");
  console.error(e);
}

function progress(value: number, max: number, text: string): void {
  const p = $<HTMLProgressElement>("progress");
  p.hidden = false;
  if (max > 0) {
    p.max = max;
    p.value = value;
  } else p.removeAttribute("value");
  $("progress-text").textContent = text;
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

async function load(): Promise<Segmenter> {
  const t0 = performance.now();
  const params = new URLSearchParams(location.search);
  const manifest: Manifest = parseManifest(
    JSON.parse(new TextDecoder().decode(await fetchBytes(MANIFEST_FILE, "site"))),
  );
  document.title = `${manifest.name} — voxelpipe in the browser`;
  $("title").textContent = `${manifest.name}: ${manifest.model.type}, ${manifest.classes.length} classes`;
  $("model").textContent =
    `weights ${manifest.checkpoint} (${(manifest.weights.parameters / 1e6).toFixed(2)} M parameters, ${mib(manifest.weights.bytes)}), stage ${manifest.stage}`;
  const weights = await fetchBytes(manifest.weights.file, "site", (n) =>
    progress(n, manifest.weights.bytes, `weights ${mib(n)} of ${mib(manifest.weights.bytes)}`),
  );
  const sel = await startBackend(backendChoice(params), logger);
  body.dataset.backend = sel.name;
  $("backend").textContent = sel.adapter
    ? `${sel.name} (${sel.adapter.description || sel.adapter.architecture})`
    : sel.name;
  const seg = await Segmenter.create(manifest, weights, { backend: sel.tfBackend, logger });
  body.dataset.loadSeconds = ((performance.now() - t0) / 1000).toFixed(2);
  return seg;
}

function showCounts(m: Manifest, labels: Volume, counts: number[]): void {
  const sp = spacingOf(labels.affine);
  const ml = (sp[0] * sp[1] * sp[2]) / 1000;
  const rows = m.classes.map((name, i) => {
    const tr = document.createElement("tr");
    tr.dataset.class = String(i);
    tr.dataset.count = String(counts[i] ?? 0);
    const [r, g, b] = classColour(i);
    tr.innerHTML = `<td><span class="swatch" style="background: rgb(${r} ${g} ${b})"></span></td><td></td><td class="n"></td><td class="n"></td>`;
    tr.children[1].textContent = name;
    tr.children[2].textContent = (counts[i] ?? 0).toLocaleString("en");
    tr.children[3].textContent = ((counts[i] ?? 0) * ml).toFixed(1);
    return tr;
  });
  $("counts")
    .querySelector("tbody")
    ?.replaceChildren(...rows);
}

let busy = false;
/** the last label map, offered by the download button */
let download: { name: string; bytes: Uint8Array } | undefined;

function saveLabelMap(): void {
  if (!download) return;
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([download.bytes as BlobPart], { type: "application/gzip" }));
  a.download = download.name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
}

async function run(seg: Segmenter, bytes: Uint8Array, name: string): Promise<void> {
  if (busy) return;
  busy = true;
  $("error").hidden = true;
  $("result").hidden = true;
  delete body.dataset.errorCode;
  try {
    setStatus("running", `segmenting ${name}…`);
    body.dataset.case = name;
    const t0 = performance.now();
    const image = await decodeNifti(bytes, name);
    const r = await seg.segment(image, (done, total) =>
      progress(done, total, total ? `window ${done} of ${total}` : "predicting…"),
    );
    const seconds = (performance.now() - t0) / 1000;
    const file = await encodeLabelMap(r.labels);
    const fileName = `${name.replace(/\.nii(\.gz)?$/i, "")}_seg.nii.gz`;
    download = { name: fileName, bytes: file };
    showCounts(seg.manifest, r.labels, r.counts);
    $("timing").textContent =
      `(${seconds.toFixed(1)} s: preprocessing ${r.seconds.preprocess.toFixed(1)}, prediction ${r.seconds.predict.toFixed(1)}, inversion ${r.seconds.invert.toFixed(1)})`;
    body.dataset.seconds = seconds.toFixed(2);
    $("result").hidden = false;
    progress(1, 1, "");
    setStatus("done", `done: ${name}`);
    // the viewer after the result: a page without WebGL still segments and downloads
    body.dataset.viewer = "loading";
    await showResult($("viewer"), { name, bytes }, { name: fileName, bytes: file }, seg.manifest.classes)
      .then(() => {
        body.dataset.viewer = "ready";
      })
      .catch((e) => {
        body.dataset.viewer = "error";
        logger.warn(`viewer: ${(e as Error).message}`);
      });
  } catch (e) {
    showError(e);
  } finally {
    busy = false;
  }
}

function wireInputs(seg: Segmenter): void {
  const input = $<HTMLInputElement>("file");
  input.disabled = false;
  $("download").addEventListener("click", saveLabelMap);
  const take = async (f: File | undefined) => {
    if (f) await run(seg, new Uint8Array(await f.arrayBuffer()), f.name);
  };
  input.addEventListener("change", () => void take(input.files?.[0]));
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    void take(e.dataTransfer?.files[0]);
  });
}

async function main(): Promise<void> {
  let seg: Segmenter;
  try {
    seg = await load();
  } catch (e) {
    showError(e);
    return;
  }
  wireInputs(seg);
  progress(0, 1, "");
  setStatus("ready", "ready: drop or pick a NIfTI image");
  const url = new URLSearchParams(location.search).get("input");
  if (url) {
    try {
      const bytes = await fetchBytes(new URL(url, location.href).href, "input");
      await run(
        seg,
        bytes,
        decodeURIComponent(new URL(url, location.href).pathname.split("/").pop() || "input.nii.gz"),
      );
    } catch (e) {
      showError(e);
    }
  }
}

void main();
