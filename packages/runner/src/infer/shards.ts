import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Codes, type Sample, VoxelpipeError, writeFileAtomicSync } from "@voxelpipe/core";
import { niftiStem } from "../evaluate/pairing.js";
import { writeError } from "../run/run-dir.js";

/**
 * Cohort inference in shards. The case list is split round-robin into shards; each shard is an
 * ordinary `voxelpipe infer` whose input is a datalist of its cases (`shards-<n>/shard-<k>.json`)
 * and whose output folder is the shared one, so every case is predicted by the same code as
 * without shards and the merged folder is what `evaluate` reads. Which cases are done is read from
 * the output folder (label maps are written atomically: a file there is complete), so a re-run
 * shards only the missing ones. The shards folder `<runs>/<pipeline>/infer-shards-<key>/` holds
 * the plan, the shard datalists, each shard's run folder and the final check (`check.json`).
 */
export interface ShardPlan {
  dir: string;
  output: string;
  postfix: string;
  imageKey: string;
  /** every case of the cohort: its name (the file stem) and its record */
  cases: { name: string; record: Sample }[];
}

export interface CaseCheck {
  total: number;
  written: number;
  missing: string[];
  /** the last error each missing case got in a shard's run (from its metrics.jsonl) */
  errors: Record<string, string>;
}

/** the shards folder of one cohort inference: same pipeline, checkpoint, input, output and overrides → same folder */
export function shardsDir(runsDir: string, pipeline: string, identity: unknown): string {
  const key = createHash("sha256").update(JSON.stringify(identity)).digest("hex").slice(0, 10);
  return join(runsDir, pipeline, `infer-shards-${key}`);
}

export const outputFile = (p: Pick<ShardPlan, "output" | "postfix">, name: string) =>
  join(p.output, `${name}_${p.postfix}.nii.gz`);

export function writeShardPlan(p: ShardPlan): void {
  const names = new Set<string>();
  for (const c of p.cases) {
    if (names.has(c.name)) {
      throw new VoxelpipeError({
        code: Codes.data,
        message: `two inputs have the case name "${c.name}": their label maps would overwrite each other`,
        hint: "rename one of the files",
      });
    }
    names.add(c.name);
  }
  try {
    writeFileAtomicSync(join(p.dir, "plan.json"), `${JSON.stringify(p, null, 2)}\n`);
  } catch (e) {
    throw writeError(p.dir, e, "cannot write the shards folder");
  }
}

export function readShardPlan(dir: string): ShardPlan {
  const f = join(dir, "plan.json");
  if (!existsSync(f)) {
    throw new VoxelpipeError({ code: Codes.fileNotFound, message: `${dir} is not a shards folder (no plan.json)` });
  }
  try {
    return JSON.parse(readFileSync(f, "utf8")) as ShardPlan;
  } catch (e) {
    throw new VoxelpipeError({
      code: Codes.invalidValue,
      message: `${f} is not a readable shard plan (${(e as Error).message.split("\n")[0]})`,
      hint: `run the same \`voxelpipe infer\` command again: it writes ${f} anew`,
    });
  }
}

export function missingCases(p: ShardPlan): ShardPlan["cases"] {
  return p.cases.filter((c) => !existsSync(outputFile(p, c.name)));
}

/** split cases round-robin into at most `n` non-empty shards (case i goes to shard i mod n) */
export function splitShards<T>(cases: T[], n: number): T[][] {
  const k = Math.max(1, Math.min(n, cases.length));
  const out: T[][] = Array.from({ length: k }, () => []);
  cases.forEach((c, i) => {
    out[i % k].push(c);
  });
  return out;
}

/** write submission `n`'s shard datalists: one list `cases` each, the records as the input gave them */
export function writeShardInputs(p: ShardPlan, shards: ShardPlan["cases"][]): { files: string[]; n: number } {
  const existing = existsSync(p.dir) ? readdirSync(p.dir).filter((d) => /^shards-\d+$/.test(d)) : [];
  const n = existing.reduce((m, d) => Math.max(m, Number(d.slice(7))), 0) + 1;
  const files = shards.map((cases, k) => {
    const f = join(p.dir, `shards-${n}`, `shard-${k}.json`);
    writeFileAtomicSync(f, `${JSON.stringify({ cases: cases.map((c) => c.record) }, null, 2)}\n`);
    return f;
  });
  return { files, n };
}

/** errors shards logged per case (metrics.jsonl of every run under the shards folder), the latest last */
function caseErrors(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const runs = join(dir, "runs");
  if (!existsSync(runs)) return out;
  const logs = readdirSync(runs, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith("metrics.jsonl"))
    .sort();
  for (const f of logs) {
    for (const line of readFileSync(join(runs, f), "utf8").split("\n")) {
      try {
        const r = JSON.parse(line) as { case?: string; error?: string };
        if (typeof r.case === "string" && typeof r.error === "string") out[r.case] = r.error;
      } catch {}
    }
  }
  return out;
}

/** the final step: was every case written? Writes `check.json` and returns it */
export function checkCases(p: ShardPlan): CaseCheck {
  const missing = missingCases(p).map((c) => c.name);
  const all = caseErrors(p.dir);
  const errors = Object.fromEntries(missing.filter((m) => all[m]).map((m) => [m, all[m]]));
  const check: CaseCheck = { total: p.cases.length, written: p.cases.length - missing.length, missing, errors };
  writeFileAtomicSync(join(p.dir, "check.json"), `${JSON.stringify(check, null, 2)}\n`);
  return check;
}

export function checkText(p: ShardPlan, c: CaseCheck): string {
  const head = `${c.written} of ${c.total} cases written to ${p.output}`;
  if (!c.missing.length) return head;
  return [
    `${head}; missing:`,
    ...c.missing.map(
      (m) =>
        `- ${m}${c.errors[m] ? `: ${c.errors[m]}` : " (no error recorded: not run yet, or its task was cancelled)"}`,
    ),
  ].join("\n");
}

export function incompleteError(p: ShardPlan, c: CaseCheck): VoxelpipeError {
  return new VoxelpipeError({
    code: Codes.shardsIncomplete,
    message: `${c.missing.length} of ${c.total} cases were not written: ${c.missing.slice(0, 5).join(", ")}${c.missing.length > 5 ? ", ..." : ""}`,
    got: c.missing
      .slice(0, 3)
      .map((m) => `${m}: ${c.errors[m] ?? "no error recorded"}`)
      .join("; "),
    hint: `the list is in ${join(p.dir, "check.json")}; re-run the same command to predict only the missing cases`,
  });
}

/** a case name from a record: its image file's stem, as the infer stage names its output */
export const caseName = (record: Sample, imageKey: string) => niftiStem(String(record[imageKey]));
