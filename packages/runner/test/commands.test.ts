import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { cli, FIXTURES, REPO, tmp } from "./helpers.js";

describe("voxelpipe list / describe / print / schema", () => {
  it("list shows built-in and plugin components; --json is machine-readable", async () => {
    const r = await cli(["list", "optimizer"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/optimizer\s+vp\/Adam\s+@voxelpipe\/runner@0\.1\.0/);
    expect(r.stdout).not.toContain("vp/train");
    const j = JSON.parse((await cli(["list", "--json", "--pipeline", "pipelines/example-regression.yaml"])).stdout);
    const keys = j.map((e: { key: string }) => e.key);
    expect(keys).toEqual(
      expect.arrayContaining([
        "vp/Adam",
        "vp/AdamW",
        "vp/SGD",
        "vp/train",
        "vp/MSELoss",
        "example/MLP",
        "example/HuberLoss",
      ]),
    );
    const bad = await cli(["list", "optimiser"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('did you mean "optimizer"?');
  });

  it("describe prints the argument table with types, defaults and docs", async () => {
    const r = await cli(["describe", "AdamW"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("vp/AdamW (optimizer, plugin @voxelpipe/runner@0.1.0)");
    expect(r.stdout).toMatch(/lr\s+number\s+0\.001\s+learning rate/);
    expect(r.stdout).toMatch(/weight_decay\s+number\s+0\.01\s+decoupled weight decay/);
    expect(r.stdout).toMatch(/betas\s+\[number, number\]\s+\[0\.9,0\.999\]/);
    const mlp = await cli(["describe", "example/MLP", "--pipeline", "pipelines/example-regression.yaml"]);
    expect(mlp.stdout).toMatch(/in_features \*\s+int\s+input width/);
    expect(mlp.stdout).toMatch(/activation\s+"relu" \| "tanh" \| "gelu"\s+"tanh"/);
    const stage = await cli(["describe", "train", "--json"]);
    expect(JSON.parse(stage.stdout).args.map((a: { name: string }) => a.name)).toContain("step");
    const miss = await cli(["describe", "Adamw2"]);
    expect(miss.code).toBe(1);
    expect(miss.stderr).toMatch(/did you mean "AdamW"/);
  });

  it("print --resolved shows the pipeline after extends, --set and interpolation; --path selects", async () => {
    const r = await cli([
      "print",
      "pipelines/example-regression.yaml",
      "--resolved",
      "--set",
      "vars.features=6",
      "--path",
      "stages.fit.model",
    ]);
    expect(r.code).toBe(0);
    expect(parse(r.stdout)).toEqual({ type: "MLP", in_features: 6, hidden: [32, 32] });
    const raw = await cli(["print", "pipelines/example-regression.yaml", "--path", "stages.fit.model.in_features"]);
    expect(raw.stdout.trim()).toBe("${vars.features}");
  });

  it("schema: every pipeline in pipelines/ validates against the generated JSON Schema; a broken one does not", async () => {
    const out = join(tmp(), "pipeline.schema.json");
    const r = await cli(["schema", "--out", out, "--pipeline", "pipelines/example-regression.yaml"]);
    expect(r.code).toBe(0);
    const schema = JSON.parse(readFileSync(out, "utf8"));
    const ajv = new Ajv({ strict: false, allErrors: true });
    const validate = ajv.compile(schema);
    const dir = join(REPO, "pipelines");
    const files = readdirSync(dir, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith(".yaml"));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const doc = parse(readFileSync(join(dir, f), "utf8"));
      expect(validate(doc), `${f}: ${JSON.stringify(validate.errors?.slice(0, 3))}`).toBe(true);
    }
    const broken = parse(readFileSync(join(FIXTURES, "invalid", "unknown-argument.yaml"), "utf8"));
    expect(validate(broken)).toBe(false);
    const wrongType = parse(readFileSync(join(FIXTURES, "invalid", "wrong-type.yaml"), "utf8"));
    expect(validate(wrongType)).toBe(false);
    // editors complete component names from the schema
    expect(JSON.stringify(schema)).toContain('"example/MLP"');
  });

  it("every pipeline in pipelines/ passes voxelpipe validate (those whose data is not in the repo with --no-data-checks)", async () => {
    const dir = join(REPO, "pipelines");
    const files = readdirSync(dir, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith(".yaml") && !f.startsWith("base/"));
    // BTCV / TCIA data, an SSL checkpoint, or `voxelpipe synth --out data/synth` output: not in the repo
    const external: Record<string, string> = {
      "clara-ssl-to-unetr.yaml": "pipelines/data/tcia",
      "ssl-vit-pretrain.yaml": "pipelines/data/tcia",
      "unetr-btcv-finetune.yaml": "pipelines/data/btcv",
      "preprocess-synth.yaml": "data/synth",
    };
    expect(files).toEqual(expect.arrayContaining(Object.keys(external)));
    for (const f of files) {
      const r = await cli(["validate", join("pipelines", f), ...(external[f] ? ["--no-data-checks"] : [])]);
      expect(r.stderr, f).toBe("");
      expect(r.code, f).toBe(0);
      if (!external[f] || existsSync(join(REPO, external[f]))) continue;
      // without the flag, the missing data is what validate reports (the run would fail on it)
      const j = JSON.parse((await cli(["validate", join("pipelines", f), "--json"])).stdout);
      expect(j.ok, f).toBe(false);
      expect(new Set(j.errors.map((e: { code: string }) => e.code)), f).toEqual(new Set(["VP002"]));
      expect(j.errors[0].hint, f).toContain("--no-data-checks");
    }
  });

  it("--help works on every command", async () => {
    for (const c of ["run", "validate", "print", "list", "describe", "schema"]) {
      const r = await cli([c, "--help"]);
      expect(r.code, c).toBe(0);
      expect(r.stdout, c).toContain(`Usage: voxelpipe ${c}`);
    }
    const top = await cli(["--help"]);
    expect(top.stdout).toContain("Commands:");
    expect((await cli(["nosuchcommand"])).code).toBe(2);
  });
});
