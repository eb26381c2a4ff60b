/**
 * Sliding-window inference on webgpu gives wasm's numbers: constant and gaussian blending,
 * constant / reflect / replicate padding of an image smaller than the roi in one dim, several
 * windows per call, with a small conv predictor (the UNETR through the same inferer is covered by
 * the CLI test; MONAI's sliding-window fixture needs ~10 UNETR forwards, minutes on SwiftShader).
 * SwiftShader here and in CI (a missing adapter fails under CI).
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import { engine } from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import { switchBackend } from "../../../test-utils/backend.js";
import { logParity, relErr } from "../../../test-utils/compare.js";
import { webgpuOrSkip } from "../../../test-utils/webgpu.js";
import { SlidingWindow } from "../src/index.js";

const gpu = await webgpuOrSkip({ prepare: false });

function seeded(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  });
}

const cases = [
  ["constant@0.5", { mode: "constant", overlap: 0.5 }],
  ["gaussian@0.25", { mode: "gaussian", overlap: 0.25, sigma_scale: 0.125 }],
  ["reflect", { mode: "gaussian", overlap: 0.5, padding_mode: "reflect" }],
  ["replicate", { mode: "constant", overlap: 0.25, padding_mode: "replicate" }],
] as const;

async function runAll(backend: string): Promise<Record<string, Float32Array>> {
  await switchBackend(backend);
  const x = tf.tensor(seeded(1 * 20 * 13 * 18 * 2, 1), [1, 20, 13, 18, 2]) as tf.Tensor5D;
  const w = tf.tensor(seeded(27 * 2 * 3, 2), [3, 3, 3, 2, 3]) as tf.Tensor5D;
  const predictor = (b: tf.Tensor) => tf.tidy(() => tf.relu(engine.conv3d(b as tf.Tensor5D, w)));
  const out: Record<string, Float32Array> = {};
  for (const [name, c] of cases) {
    const inferer = new SlidingWindow({ roi_size: [12, 16, 12], sw_batch_size: 3, ...c } as never);
    const y = await inferer.infer(x, predictor);
    expect(y.shape).toEqual([1, 20, 13, 18, 3]);
    out[name] = (await y.data()) as Float32Array;
    y.dispose();
  }
  tf.dispose([x, w]);
  return out;
}

describe.skipIf(!gpu.ok)(gpu.title(`sliding window on webgpu = wasm`), () => {
  it("blending modes and padding modes give wasm's output (rel err ≤ 1e-6; measured ~1e-7)", async () => {
    const gpu = await runAll("webgpu");
    expect(engine.takeWebgpuErrors()).toEqual([]);
    const wasm = await runAll("wasm");
    const errs = Object.fromEntries(cases.map(([name]) => [name, relErr(gpu[name], wasm[name])]));
    logParity("webgpu vs wasm sliding window", errs);
    for (const [k, e] of Object.entries(errs)) expect(e, k).toBeLessThanOrEqual(1e-6);
  });
});
