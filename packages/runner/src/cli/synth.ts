import { resolve } from "node:path";
import { writeSynthDataset } from "@voxelpipe/transforms";
import type { Command } from "commander";
import type { CliIO } from "./io.js";

const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`expected an integer, got "${v}"`);
  return n;
};

/** `voxelpipe synth`: the built-in demo data, a synthetic abdominal CT dataset with 14-class labels. */
export function registerSynth(program: Command, io: CliIO): void {
  program
    .command("synth")
    .description("write a synthetic abdominal CT dataset (NIfTI, 13 BTCV organs, Decathlon datalist)")
    .option("--out <dir>", "output folder", "data/synth")
    .option("--cases <n>", "labelled cases (training + validation)", int, 8)
    .option("--test <n>", "extra held-out test cases", int, 0)
    .option("--size <n>", "grid size per axis (voxels)", int, 64)
    .option("--val <fraction>", "fraction of the cases used for validation", Number, 0.25)
    .option("--seed <n>", "dataset seed (same seed → byte-identical files)", int, 0)
    .action(async (o: { out: string; cases: number; test: number; size: number; val: number; seed: number }) => {
      const out = resolve(io.cwd, o.out);
      const started = Date.now();
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
