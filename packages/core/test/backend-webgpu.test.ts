/**
 * Backend selection with webgpu: which adapter is used and why (hardware first; a software
 * adapter such as SwiftShader only when webgpu is named), the auto order per environment, and
 * what `selectBackend("webgpu")` records. The last part needs an adapter (SwiftShader here and in
 * CI, where a missing one fails the file).
 */
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { isCI } from "../../../test-utils/gates.js";
import { autoBackendOrder, backendNames, selectBackend } from "../src/backend.js";
import { pickAdapter, summarizeAdapter, webgpuAdapter } from "../src/engine/index.js";
import { createMemoryLogger } from "../src/logger.js";

const limits = { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 30 };
const adapter = (info: Record<string, unknown>, isFallbackAdapter = false) =>
  summarizeAdapter({
    info,
    isFallbackAdapter,
    limits,
    features: { has: () => false },
    requestDevice: async () => ({}),
  });

describe("webgpu adapter choice", () => {
  const swiftshader = adapter({
    vendor: "google",
    architecture: "swiftshader",
    description: "SwiftShader driver 5.0.0",
  });
  const nvidia = adapter({ vendor: "nvidia", architecture: "ampere", description: "NVIDIA GeForce RTX 3090" });
  const fallback = adapter({ vendor: "", architecture: "", description: "" }, true);

  it("recognises software adapters (SwiftShader by architecture or description, fallback adapters)", () => {
    expect(swiftshader.software).toBe(true);
    expect(adapter({ vendor: "google", description: "SwiftShader Device (Subzero)" }).software).toBe(true);
    expect(fallback.software).toBe(true);
    expect(nvidia.software).toBe(false);
    expect(nvidia.limits).toEqual(limits);
  });

  it("auto takes hardware only; naming webgpu also accepts a software adapter; hardware always wins", () => {
    expect(pickAdapter([swiftshader], false)).toEqual({
      pick: -1,
      skipped: ["google / swiftshader / SwiftShader driver 5.0.0: software adapter (used only with --backend webgpu)"],
    });
    expect(pickAdapter([swiftshader], true)).toEqual({ pick: 0, skipped: [] });
    expect(pickAdapter([swiftshader, nvidia], true).pick).toBe(1);
    expect(pickAdapter([nvidia, swiftshader], false)).toEqual({
      pick: 0,
      skipped: ["google / swiftshader / SwiftShader driver 5.0.0: software adapter (used only with --backend webgpu)"],
    });
    // the same adapter returned for both power preferences is listed once
    expect(pickAdapter([nvidia, nvidia], false)).toEqual({ pick: 0, skipped: [] });
    expect(pickAdapter([], true).pick).toBe(-1);
  });

  it("auto order: Node tries the tfjs-node backends, then webgpu, wasm, cpu; a browser webgpu, webgl, wasm, cpu", () => {
    expect(autoBackendOrder(true)).toEqual(["tensorflow-gpu", "tensorflow", "webgpu", "wasm", "cpu"]);
    expect(autoBackendOrder(false)).toEqual(["webgpu", "webgl", "wasm", "cpu"]);
    expect(backendNames).toContain("webgpu");
    expect(backendNames).toContain("webgl");
  });

  it("webgl is browser-only: naming it in Node is a located VP180 diagnostic", async () => {
    const err = await selectBackend("webgl").catch((e) => e);
    expect(err.diagnostics?.[0]?.code).toBe("VP180");
    expect(err.message).toMatch(/webgl: browser only/);
  });
});

let why = "";
const logger = createMemoryLogger();
let selection: Awaited<ReturnType<typeof selectBackend>> | undefined;
try {
  selection = await selectBackend("webgpu", logger);
} catch (e) {
  if (isCI()) throw e;
  why = ` [skipped: ${(e as Error).message}]`;
}

describe.skipIf(why !== "")(`selectBackend("webgpu")${why}`, () => {
  it("records and logs the adapter it computes on, with its buffer limits", () => {
    expect(selection!.name).toBe("webgpu");
    expect(tf.getBackend()).toBe("webgpu");
    const a = selection!.adapter!;
    expect(a).toEqual(webgpuAdapter());
    expect(a.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 2 ** 20);
    const text = logger.lines.join("\n");
    expect(text).toMatch(/webgpu adapter: /);
    if (a.software) expect(text).toMatch(/software/);
  });

  it("a second selection reuses the device (one GPU device per process)", async () => {
    const again = await selectBackend("webgpu");
    expect(again.adapter).toBe(selection!.adapter);
  });
});
