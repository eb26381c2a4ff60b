import { resolve } from "node:path";
import type { Command } from "commander";
import { intArg, numberArg } from "./args.js";
import type { CliIO } from "./io.js";

/** `voxelpipe synth`: the built-in demo data, a synthetic abdominal CT dataset with 14-class labels. */
export function registerSynth(program: Command, io: CliIO): void {
  program
    .command("synth")
    .description("write a synthetic abdominal CT dataset (NIfTI, 13 BTCV organs, Decathlon datalist)")
    .option("--out <dir>", "output folder", "data/synth")
    .option("--cases <n>", "labelled cases (training + validation)", intArg("--cases", 1, 100_000), 8)
    .option("--test <n>", "extra held-out test cases", intArg("--test", 0, 100_000), 0)
    .option("--size <n>", "grid size per axis (voxels)", intArg("--size", 8, 1024), 64)
    .option(
      "--val <fraction>",
      "fraction of the cases used for validation",
      numberArg("--val", 0, 1, "a fraction from 0 to 1"),
      0.25,
    )
    .option("--seed <n>", "dataset seed (same seed → byte-identical files)", intArg("--seed", 0, 2 ** 32 - 1), 0)
    .action(async (o: { out: string; cases: number; test: number; size: number; val: number; seed: number }) => {
      const out = resolve(io.cwd, o.out);
      const started = Date.now();
      const { writeSynthDataset } = await import("@voxelpipe/transforms");
      const r = await writeSynthDataset(
        out,
        { cases: o.cases, size: o.size, seed: o.seed, valFraction: o.val, testCases: o.test },
        (i, n) => io.err(`  case ${i}/${n}`),
      );
      io.out(
        `wrote ${r.cases.length} cases to ${out} in ${((Date.now() - started) / 1000).toFixed(1)} s; datalist: ${r.datalist}`,
      );
    });
}
