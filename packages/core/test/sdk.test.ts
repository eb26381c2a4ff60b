import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { stageContainer } from "../src/di/components.js";
import { Container, token } from "../src/di/container.js";
import { Services } from "../src/di/tokens.js";
import { isVoxelpipeError, type VoxelpipeError } from "../src/errors.js";
import { createMemoryLogger } from "../src/logger.js";
import { RngStreams } from "../src/rng/streams.js";
import { defineLoss, definePlugin, defineTransform } from "../src/sdk/define.js";
import { Registries } from "../src/sdk/registry.js";
import { CORE_API_VERSION } from "../src/sdk/version.js";

const T = (name: string) =>
  defineTransform({
    name,
    args: z.object({ k: z.number().default(1) }),
    create: (a) => ({ random: false, apply: (s: Record<string, unknown>) => ({ ...s, k: a.k }) }),
  });
const pa = definePlugin({
  meta: { name: "pkg-a", version: "1.0.0", namespace: "a" },
  components: [T("Flip"), T("Crop")],
});
const pb = definePlugin({ meta: { name: "pkg-b", version: "2.0.0", namespace: "b" }, components: [T("Flip")] });

function catchErr(f: () => unknown): VoxelpipeError {
  try {
    f();
  } catch (e) {
    if (isVoxelpipeError(e)) return e;
    throw e;
  }
  throw new Error("expected an error");
}

describe("plugin SDK and registries", () => {
  it("definitions are plain typed objects whose argument schema rejects unknown keys", () => {
    const t = T("X");
    expect(t.kind).toBe("transform");
    expect(() => t.args.parse({ k: 1, extra: 2 })).toThrow(/Unrecognized key/);
    expect(t.args.parse({})).toEqual({ k: 1 });
    expect(pa.meta).toEqual({ name: "pkg-a", version: "1.0.0", namespace: "a", api: CORE_API_VERSION });
    expect(() => definePlugin({ meta: { name: "x", version: "1", namespace: "Bad NS" }, components: [] })).toThrow(
      /namespace/,
    );
  });

  it("resolves canonical keys, unique short names, and lists candidates when ambiguous", () => {
    const r = new Registries();
    r.use(pa);
    r.use(pb);
    const reg = r.of("transform");
    expect(reg.resolve("Crop").key).toBe("a/Crop");
    expect(reg.resolve("b/Flip").plugin.name).toBe("pkg-b");
    const amb = catchErr(() => reg.resolve("Flip"));
    expect(amb.code).toBe("VP101");
    expect(amb.diagnostics[0].hint).toBe(
      'several plugins register "Flip": pin the namespace by writing the canonical key, "a/Flip" (plugin pkg-a) or "b/Flip" (plugin pkg-b); a plugin can also be loaded under another namespace: plugins: [{ from: <package>, as: <namespace> }]',
    );
    const unk = catchErr(() => reg.resolve("Crpo"));
    expect(unk.code).toBe("VP100");
    expect(unk.diagnostics[0].hint).toMatch(/did you mean "Crop"/);
  });

  it("names both plugins on a duplicate registration, supports aliasing, freezes once a run starts", () => {
    const r = new Registries();
    r.use(pa);
    const pa2 = definePlugin({
      meta: { name: "pkg-a-fork", version: "1.1.0", namespace: "a" },
      components: [T("Crop")],
    });
    const dup = catchErr(() => r.use(pa2));
    expect(dup.code).toBe("VP102");
    expect(dup.message).toContain(
      'transform "a/Crop" is registered twice: by plugin "pkg-a" and by plugin "pkg-a-fork"',
    );
    r.use(pa2, { as: "fork" });
    expect(r.of("transform").resolve("fork/Crop").plugin.name).toBe("pkg-a-fork");
    r.freeze();
    const frozen = catchErr(() => r.use(pb));
    expect(frozen.code).toBe("VP103");
  });
});

describe("DI container and component resolver", () => {
  function resolver(root: Record<string, unknown>) {
    const registries = new Registries();
    let built = 0;
    const Named = defineLoss({
      name: "Named",
      args: z.object({ other: z.unknown().optional(), scale: z.number().default(1) }),
      async create(a, ctx) {
        built++;
        const other = a.other === undefined ? undefined : await ctx.build("loss", a.other, "other");
        return { path: ctx.path, other, scale: a.scale, seedDraw: ctx.rng().rand(), compute: () => tf.scalar(0) };
      },
    });
    registries.use(definePlugin({ meta: { name: "t", version: "0", namespace: "t" }, components: [Named] }));
    const c = Container.root()
      .value(Services.registries, registries)
      .value(Services.logger, createMemoryLogger())
      .value(Services.seed, 5)
      .value(Services.rng, new RngStreams(5))
      .value(Services.backend, "cpu")
      .value(Services.config, { root, baseDir: "/" });
    const r = stageContainer(c, {
      stageOutputs: (s, k) => (s === "up" && k === "best" ? "/ckpt" : undefined),
    }).get(Services.components);
    return { r, count: () => built };
  }

  it("builds lazily, once per path, references first; args get stage outputs", async () => {
    const { r, count } = resolver({
      a: { type: "Named", other: "@b", scale: 2 },
      b: { type: "Named" },
      c: { type: "Named", other: "@b" },
      d: { type: "Named", scale: "@vars.s" },
      vars: { s: 3 },
    });
    expect(count()).toBe(0);
    const a = (await r.build("loss", ["a"])) as { other: unknown; scale: number; path: string };
    const c = (await r.build("loss", ["c"])) as { other: unknown };
    expect(a.other).toBe(c.other); // one instance of b
    expect(count()).toBe(3);
    expect(a.path).toBe("a");
    expect(((await r.build("loss", ["d"])) as { scale: number }).scale).toBe(3);
    // per-path RNG streams: same seed + path → same draw
    const again = resolver({ a: { type: "Named" } });
    const x = (await again.r.build("loss", ["a"])) as { seedDraw: number };
    expect(x.seedDraw).toBe(
      ((await resolver({ a: { type: "Named" } }).r.build("loss", ["a"])) as { seedDraw: number }).seedDraw,
    );
  });

  it("reports a reference cycle with its path", async () => {
    const { r } = resolver({
      a: { type: "Named", other: "@b" },
      b: { type: "Named", other: "@c" },
      c: { type: "Named", other: "@a" },
    });
    await expect(r.build("loss", ["a"])).rejects.toThrow("component reference cycle: a -> b -> c -> a");
  });

  it("child containers see parent services and can override them", () => {
    const tk = token<string>("x");
    const root = Container.root().value(tk, "root");
    const child = root.child();
    expect(child.get(tk)).toBe("root");
    child.value(tk, "child");
    expect(child.get(tk)).toBe("child");
    expect(root.get(tk)).toBe("root");
    let made = 0;
    const lazy = token<object>("lazy");
    root.lazy(lazy, () => ({ n: ++made }));
    expect(made).toBe(0);
    expect(root.get(lazy)).toBe(root.get(lazy));
    expect(made).toBe(1);
  });
});

describe("Registries.of", () => {
  it("an unknown kind (a stage plugin's rt.build with its arguments swapped) is a VP111 naming the kinds, not a raw Error", () => {
    const e = (() => {
      try {
        new Registries().of("stages.train.model" as never);
      } catch (x) {
        return x as VoxelpipeError;
      }
      throw new Error("expected a VoxelpipeError");
    })();
    expect(isVoxelpipeError(e)).toBe(true);
    expect(e.code).toBe("VP111");
    expect(e.message).toContain('unknown component kind "stages.train.model"');
    expect(e.diagnostics[0].expected).toContain("transform");
    expect(e.diagnostics[0].hint).toContain("take the kind first");
  });
});
