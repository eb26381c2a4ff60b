/**
 * `voxelpipe run` and `voxelpipe infer` with --backend webgpu give wasm's numbers: the tiny
 * pipeline of the sharded-inference tests (synthetic CT 24³, a hidden-16 UNETR on 16³ windows,
 * DiceCE, Adam, sliding-window validation with Dice) trained one step on each backend, then one
 * case predicted on each. SwiftShader here and in CI (a missing adapter fails under CI).
 * Measured on the loaded 2-core dev machine: ~80 s webgpu run + ~5 s wasm run + ~20 s per infer.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { engine } from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import { webgpuOrSkip } from "../../../test-utils/webgpu.js";
import { cli, FIXTURES, tmp } from "./helpers.js";

const TINY = join(FIXTURES, "pipelines", "tiny-infer.yaml");

const gpu = await webgpuOrSkip({ prepare: false });

const latest = (runs: string, stage: string) => {
  const root = join(runs, "tiny-infer", stage);
  return join(root, readdirSync(root).sort().pop()!);
};
const lines = (dir: string) =>
  readFileSync(join(dir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe.skipIf(!gpu.ok)(gpu.title(`voxelpipe run / infer --backend webgpu = wasm`), () => {
  it("trains tiny-infer.yaml to the same loss and validation Dice, and predicts the same labels", async () => {
    const runs: Record<string, string> = {};
    for (const backend of ["wasm", "webgpu"]) {
      runs[backend] = tmp(`vp-${backend}-`);
      const r = await cli(["run", TINY, "--runs-dir", runs[backend], "--backend", backend]);
      expect(r.code, r.stderr).toBe(0);
    }
    const [w, g] = ["wasm", "webgpu"].map((b) => lines(latest(runs[b], "fit")));
    expect(g.length).toBe(w.length);
    // measured: loss 1.8e-7 relative, validation Dice identical; bounds ~10× that (Dice: one float32 tick)
    const bound: Record<string, number> = { loss: 2e-6, val_dice: 1.2e-7 };
    const compared = { loss: 0, val_dice: 0 };
    for (const [i, want] of w.entries()) {
      for (const k of ["loss", "val_dice"] as const) {
        if (typeof want[k] !== "number") continue; // a step line has no val_dice, a validation line no loss
        const got = g[i][k] as number;
        compared[k]++;
        expect(Math.abs(got - (want[k] as number)) / Math.max(1e-12, Math.abs(want[k] as number)), k).toBeLessThan(
          bound[k],
        );
      }
    }
    expect(compared.loss).toBeGreaterThan(0);
    expect(compared.val_dice).toBeGreaterThan(0);
    const env = JSON.parse(readFileSync(join(latest(runs.webgpu, "fit"), "env.json"), "utf8"));
    expect(env.backend.name).toBe("webgpu");
    expect(env.backend.adapter.limits.maxBufferSize).toBeGreaterThan(0);
    expect(typeof env.backend.adapter.software).toBe("boolean");

    // one test case through `voxelpipe infer` on each backend, with the webgpu-trained checkpoint
    const best = JSON.parse(readFileSync(join(latest(runs.webgpu, "fit"), "outputs.json"), "utf8")).best;
    const data = JSON.parse(readFileSync(join(latest(runs.webgpu, "data"), "outputs.json"), "utf8")).datalist;
    const test = (JSON.parse(readFileSync(data, "utf8")).test as { image: string }[])[0].image;
    const input = join(tmp(), "in");
    mkdirSync(input);
    copyFileSync(join(data, "..", test), join(input, test.split("/").pop()!));
    const labels: Record<string, Buffer> = {};
    for (const backend of ["wasm", "webgpu"]) {
      const out = join(tmp(), backend);
      const args = ["infer", TINY, "--checkpoint", best, "--input", input, "--output", out, "--backend", backend];
      const r = await cli([...args, "--runs-dir", runs[backend]]);
      expect(r.code, r.stderr).toBe(0);
      const [file] = readdirSync(out).filter((f) => f.endsWith(".nii.gz"));
      labels[backend] = gunzipSync(readFileSync(join(out, file)));
    }
    // same header and voxels (argmax of logits that agree to ~1e-7; a tie could flip one voxel)
    const [a, b] = [labels.wasm, labels.webgpu];
    expect(b.length).toBe(a.length);
    let diff = 0;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) diff++;
    expect(diff / a.length).toBeLessThan(1e-4);
    expect(engine.takeWebgpuErrors()).toEqual([]);
  }, 600_000);
});
