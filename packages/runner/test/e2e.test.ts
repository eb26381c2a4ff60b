import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  compilePipeline,
  createMemoryLogger,
  type Model,
  readSafetensors,
  runContainer,
  Services,
  selectBackend,
  stageContainer,
} from "@voxelpipe/core";
import { readNifti, writeNifti } from "@voxelpipe/transforms";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { toolOrSkip } from "../../../test-utils/gates.js";
import { builtinRegistries } from "../src/registries.js";
import { cli, FIXTURES, tmp } from "./helpers.js";

const TINY = join(FIXTURES, "pipelines", "tiny-e2e.yaml");
// Debian's chromium (`.ci/run` installs it): without it a user's run skips the screenshot check, CI fails
const CHROMIUM = toolOrSkip("chromium", ["/usr/bin/chromium", "/usr/bin/chromium-browser"], "chromium").path;

/** headless Chromium screenshot of a page: it must load and paint charts and images (skipped without Chromium) */
async function expectRendersInChromium(file: string): Promise<void> {
  if (!CHROMIUM) {
    console.warn("report.html screenshot check skipped: Debian's chromium is not installed (apt-get install chromium)");
    return;
  }
  const shot = join(tmp(), "report.png");
  const flags = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ];
  execFileSync(
    CHROMIUM,
    [...flags, `--user-data-dir=${tmp()}`, "--window-size=1200,1600", `--screenshot=${shot}`, pathToFileURL(file).href],
    { stdio: "ignore", timeout: 60_000 },
  );
  const png = PNG.sync.read(readFileSync(shot));
  expect([png.width, png.height]).toEqual([1200, 1600]);
  // a painted page, not a blank one: many distinct colours (charts, contours, CT grey levels)
  const colours = new Set<number>();
  for (let i = 0; i < png.data.length; i += 4 * 7)
    colours.add((png.data[i] << 16) | (png.data[i + 1] << 8) | png.data[i + 2]);
  expect(colours.size).toBeGreaterThan(50);
  const dom = execFileSync(CHROMIUM, [...flags, `--user-data-dir=${tmp()}`, "--dump-dom", pathToFileURL(file).href], {
    encoding: "utf8",
    timeout: 60_000,
    stdio: ["ignore", "pipe", "ignore"],
    maxBuffer: 64 << 20, // the page inlines the viewer and its volumes (~1.3 MB)
  });
  expect(dom).toContain("<svg");
}

/** the same image stored LPS: i and j reversed, the affine's first two columns negated (same world positions) */
function lpsCopy<V extends { data: ArrayLike<number>; shape: number[]; channels: number; affine: ArrayLike<number> }>(
  v: V,
): V {
  const [n0, n1, n2] = v.shape;
  const C = v.channels;
  const data = new (v.data.constructor as new (n: number) => Float32Array)(v.data.length);
  for (let i = 0; i < n0; i++)
    for (let j = 0; j < n1; j++)
      for (let k = 0; k < n2; k++)
        for (let c = 0; c < C; c++)
          data[(((n0 - 1 - i) * n1 + (n1 - 1 - j)) * n2 + k) * C + c] = v.data[((i * n1 + j) * n2 + k) * C + c];
  const a = Float64Array.from(v.affine);
  for (let r = 0; r < 3; r++) {
    a[r * 4 + 3] += a[r * 4] * (n0 - 1) + a[r * 4 + 1] * (n1 - 1);
    a[r * 4] = -a[r * 4];
    a[r * 4 + 1] = -a[r * 4 + 1];
  }
  return { ...v, data, affine: a };
}

function outputsOf(runs: string, stage: string): Record<string, string> {
  const root = join(runs, "tiny-e2e", stage);
  const dir = readdirSync(root).sort().pop()!;
  return JSON.parse(readFileSync(join(root, dir, "outputs.json"), "utf8"));
}

describe("end to end: synth → SSL → transfer → fine-tune → infer → evaluate", () => {
  it("runs the demo pipeline at test size and transfers exactly the ViT weights", async () => {
    const runs = tmp();
    const r = await cli(["run", TINY, "--runs-dir", runs, "--backend", "wasm"]);
    expect(r.code, r.stderr).toBe(0);
    for (const s of ["data", "pretrain", "finetune", "predict", "score"])
      expect(r.stdout).toContain(`${s}: run directory`);
    expect(r.stderr).toMatch(/init UNETR from .*pretrain.*best\.safetensors: loaded 137 tensors/);
    expect(r.stderr).toMatch(/validation at epoch 2:\nclass\s+dice/);
    const report = JSON.parse(readFileSync(outputsOf(runs, "score").report, "utf8"));
    expect(report.cases).toHaveLength(2);
    expect(Object.keys(report.mean.dice)).toEqual(expect.arrayContaining(["liver", "spleen", "mean"]));
    // every run writes report.html: curves, per-organ bars and overlays (also as PNG files)
    const finetuneReport = outputsOf(runs, "finetune").report;
    const html = readFileSync(finetuneReport, "utf8");
    expect(html).toContain("<polyline"); // curves
    expect(html).toContain("training losses");
    expect(html).toContain("learning rate");
    expect(html).toMatch(/Per-class Dice at the best validation[\s\S]*>liver</); // bars named by organ
    expect(html.match(/<img [^>]*src="data:image\/png;base64,/g)).toHaveLength(6); // best + worst × 3 views
    // self-contained: the viewer and its volumes are inline (report-viewer.test.ts drives it in Chromium)
    expect(html).not.toMatch(/<script[^>]*\ssrc=|https?:\/\//);
    expect(html).toContain('data-vp-viewer="worst"');
    for (const f of ["best_axial", "best_coronal", "best_sagittal", "worst_axial"])
      expect(existsSync(join(dirname(finetuneReport), "overlays", `${f}.png`)), f).toBe(true);
    const scoreDir = dirname(outputsOf(runs, "score").report);
    expect(readFileSync(join(scoreDir, "report.html"), "utf8")).toMatch(/dice — mean[\s\S]*Best and worst case/);
    await expectRendersInChromium(finetuneReport);

    const preds = readdirSync(outputsOf(runs, "predict").predictions);
    expect(preds.sort()).toEqual(["case_0006_seg.nii.gz", "case_0007_seg.nii.gz"]);

    // inference fits its training geometry: the checkpoint records the training chain's Orientation,
    // and an LPS copy of a case gets the RAS original's labels (the chain reorients both to RAS)
    const best = outputsOf(runs, "finetune").best;
    expect(JSON.parse((await readSafetensors(best)).metadata.voxelpipe).geometry).toEqual({ axcodes: "RAS" });
    const datalist = JSON.parse(readFileSync(outputsOf(runs, "data").datalist, "utf8"));
    const ct = join(dirname(outputsOf(runs, "data").datalist), datalist.test[0].image);
    const inDir = join(tmp(), "in");
    const ras = await readNifti(ct);
    await writeNifti(join(inDir, "ras.nii.gz"), ras);
    await writeNifti(join(inDir, "lps.nii.gz"), lpsCopy(ras));
    const agreement = async (sets: string[]) => {
      const out = join(tmp(), "out");
      const inf = await cli([
        "infer",
        TINY,
        "--checkpoint",
        best,
        "--input",
        inDir,
        "--output",
        out,
        "--runs-dir",
        runs,
        "--backend",
        "wasm",
        ...sets,
      ]);
      expect(inf.code, inf.stderr).toBe(0);
      const a = await readNifti(join(out, "ras_seg.nii.gz"));
      const b = await readNifti(join(out, "lps_seg.nii.gz"));
      expect([...b.affine].map((x) => x + 0)).toEqual([...lpsCopy(ras).affine].map((x) => x + 0)); // -0 → 0
      const back = lpsCopy(b).data; // LPS → RAS grid again
      let fg = 0;
      let same = 0;
      for (let i = 0; i < a.data.length; i++) {
        if (a.data[i] === 0 && back[i] === 0) continue;
        fg++;
        if (a.data[i] === back[i]) same++;
      }
      expect(fg).toBeGreaterThan(0.05 * a.data.length); // the model predicts organs, not only background
      return { agree: same / fg, stderr: inf.stderr };
    };
    const fits = await agreement([]);
    expect(fits.agree).toBe(1); // measured: exactly equal (the flip is exact, so is Orientation's)
    expect(fits.stderr).not.toMatch(/orientation|Orientation/);
    // without Orientation in the infer chain: warned about (against the checkpoint), and the labels differ
    const bare = await agreement([
      "--set",
      "stages.finetune.transforms.val=[{type: LoadImage, keys: [image, label]}, {type: ScaleIntensityRange, keys: [image], a_min: -175, a_max: 250, b_min: 0.0, b_max: 1.0, clip: true}]",
    ]);
    expect(bare.stderr).toContain(
      "the model was trained on RAS inputs (checkpoint geometry), the infer transforms have no Orientation",
    );
    expect(bare.stderr).toContain(
      "lps: orientation after preprocessing is LPS, the checkpoint's training chain Orientation gives RAS",
    );
    expect(bare.agree).toBeLessThan(0.9); // measured: 0.36 of the foreground (1 with Orientation)

    // the transfer, exactly as the YAML declares it: every encoder tensor equal, the decoder untouched
    await selectBackend("cpu");
    const registries = builtinRegistries();
    const c = await compilePipeline(TINY, { registries });
    const p = c.pipeline!;
    const outputs = { pretrain: outputsOf(runs, "pretrain") } as Record<string, Record<string, string>>;
    const build = (root: Record<string, unknown>) =>
      stageContainer(
        runContainer({
          registries,
          logger: createMemoryLogger(),
          seed: p.seed,
          backend: "cpu",
          config: { root, baseDir: p.baseDir },
        }),
        { stageOutputs: (s, k) => outputs[s]?.[k] },
      )
        .get(Services.components)
        .build<Model>("model", ["stages", "finetune", "model"]);
    const transferred = await build(p.value);
    const noInit = structuredClone(p.value) as { stages: { finetune: { model: Record<string, unknown> } } };
    delete noInit.stages.finetune.model.init;
    const scratch = await build(noInit as never);
    const ssl = (await readSafetensors(outputs.pretrain.best)).tensors;
    let encoder = 0;
    let decoder = 0;
    for (const [name, v] of transferred.params) {
      const got = v.dataSync();
      if (name.startsWith("vit.")) {
        const src = ssl.get(name.slice(4));
        expect(src, name).toBeDefined();
        expect(Buffer.from(got.buffer).equals(Buffer.from((src!.data as Float32Array).buffer)), name).toBe(true);
        encoder++;
      } else {
        expect(Buffer.from(got.buffer).equals(Buffer.from(scratch.params.get(name)!.dataSync().buffer)), name).toBe(
          true,
        );
        decoder++;
      }
    }
    expect(encoder).toBe(137);
    expect(decoder).toBeGreaterThan(20);
    // the SSL decoder (the two transposed convolutions) went nowhere
    expect([...ssl.keys()].filter((k) => k.startsWith("conv3d_transpose")).length).toBe(4);
    expect([...transferred.params.keys()].some((k) => k.includes("conv3d_transpose"))).toBe(false);
  });

  it("a NaN loss stops training naming the step, and the best checkpoint stays intact", async () => {
    const runs = tmp();
    const r = await cli([
      "run",
      "pipelines/example-regression.yaml",
      "--runs-dir",
      runs,
      "--backend",
      "cpu",
      "--set",
      "plugins.1=../packages/runner/test/fixtures/plugins/other",
      "--set",
      "stages.fit.step.huber={call: {type: other/NaNAfter, after: 20}, in: [pred, y]}",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error\[VP220\]: huber is NaN at iteration 21 \(epoch 3\); training stopped/);
    expect(r.stderr).toContain("the last good checkpoints are kept in");
    const root = join(runs, "example-regression", "fit");
    const dir = join(root, readdirSync(root)[0]);
    const best = await readSafetensors(join(dir, "checkpoints", "best.safetensors"));
    const meta = JSON.parse(best.metadata.voxelpipe);
    expect(meta.state).toMatchObject({ epoch: 2, iteration: 16 });
    for (const [k, t] of best.tensors) expect((t.data as Float32Array).every(Number.isFinite), k).toBe(true);
    expect(existsSync(join(dir, "outputs.json"))).toBe(false);
  });
});
