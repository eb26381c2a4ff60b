import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { Inferer } from "../src/contracts/components.js";
import { isVoxelpipeError, type VoxelpipeError } from "../src/errors.js";
import { contractProblems } from "../src/sdk/contract-check.js";
import { defineLoss, definePlugin, PLUGIN_CORE, type PluginDefinition } from "../src/sdk/define.js";
import { componentTarget, guardComponent } from "../src/sdk/guard.js";
import { coreInstance, loadedCores } from "../src/sdk/instance.js";
import { checkPluginCompatible, Registries } from "../src/sdk/registry.js";
import { CORE_API_VERSION, CORE_VERSION, packageVersion } from "../src/sdk/version.js";

const loss = defineLoss({ name: "L", args: z.object({}), create: () => ({ compute: () => null as never }) });
const plugin = definePlugin({ meta: { name: "@t/p", version: "1.0.0", namespace: "t" }, components: [loss] });
const caught = (f: () => unknown): VoxelpipeError => {
  try {
    f();
  } catch (e) {
    if (isVoxelpipeError(e)) return e;
    throw e;
  }
  throw new Error("did not throw");
};

describe("plugin identity", () => {
  it("versions come from the package's own package.json", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    expect(CORE_VERSION).toBe(pkg.version);
    expect(packageVersion(import.meta.url)).toBe(pkg.version);
    expect(packageVersion("not a url")).toBe("0.0.0-unknown");
  });

  it("definePlugin stamps the core API and, hidden, the copy of core that defined it", () => {
    expect(plugin.meta.api).toBe(CORE_API_VERSION);
    expect(plugin[PLUGIN_CORE]).toBe(coreInstance);
    expect(Object.keys(plugin)).toEqual(["meta", "components"]);
    expect(loadedCores()).toContain(coreInstance);
  });

  it("another API or another copy of core is refused when registered", () => {
    const future = { ...plugin, meta: { ...plugin.meta, api: CORE_API_VERSION + 1 } } as PluginDefinition;
    expect(caught(() => new Registries().use(future)).code).toBe("VP152");
    const none = { meta: { name: "x", version: "1", namespace: "x" }, components: [] } as PluginDefinition;
    expect(caught(() => checkPluginCompatible(none)).diagnostics[0].message).toMatch(/declares no voxelpipe core API/);
    const copy = { ...coreInstance, id: Symbol("copy"), location: "/other/core/" };
    const foreign = { meta: plugin.meta, components: plugin.components, [PLUGIN_CORE]: copy } as PluginDefinition;
    const e = caught(() => checkPluginCompatible(foreign));
    expect(e.code).toBe("VP153");
    expect(e.diagnostics[0].hint).toMatch(/peerDependency/);
    // the same folder evaluated again (a test runner's module isolation) is the same core
    checkPluginCompatible({
      ...foreign,
      [PLUGIN_CORE]: { ...copy, location: coreInstance.location },
    } as PluginDefinition);
  });
});

describe("contracts at run time", () => {
  const who = { key: "t/L", plugin: plugin.meta, path: "stages.fit.step.l.call" };

  it("what create returned is checked against the kind's members", () => {
    expect(contractProblems("transform", { apply: () => ({}) })).toEqual(["has no random"]);
    expect(contractProblems("model", { apply: 1, dispose: () => {}, params: new Map() })).toEqual([
      "apply is number, expected a function",
    ]);
    expect(contractProblems("optimizer", {})).toHaveLength(1);
    const e = caught(() => guardComponent("loss", { computee: 42 }, who));
    expect(e.code).toBe("VP202");
    expect(e.diagnostics[0]).toMatchObject({ path: who.path });
  });

  it("errors thrown in contract methods name the component; diagnostics pass through; this is the component", () => {
    class Loss {
      #scale = 2;
      compute(x: number[]) {
        if (!x.length) throw new RangeError("empty input");
        return this.#scale * x.length;
      }
      helper() {
        return this.#scale;
      }
    }
    const raw = new Loss();
    const g = guardComponent("loss", raw as never, who) as unknown as Loss;
    expect(g.compute([1, 2])).toBe(4);
    expect(g.helper()).toBe(2);
    expect(componentTarget(g)).toBe(raw);
    expect(g instanceof Loss).toBe(true);
    const e = caught(() => g.compute([]));
    expect(e.code).toBe("VP201");
    expect(e.diagnostics[0].message).toBe("loss t/L (plugin @t/p@1.0.0) failed in compute(): empty input");
    expect(e.diagnostics[0].path).toBe(who.path);
  });

  it("rejections of async methods are named too", async () => {
    const inf = guardComponent<Inferer>("inferer", { infer: async () => Promise.reject(new Error("no window")) }, who);
    await expect(inf.infer(null as never, null as never)).rejects.toMatchObject({ code: "VP201" });
  });
});
