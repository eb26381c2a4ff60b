import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { compilePipeline, isVoxelpipeError } from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import { builtinRegistries } from "../src/registries.js";
import { breakToken, RunLock } from "../src/run/lock.js";
import { MetricsLog, parseRecords } from "../src/run/metrics-log.js";
import { keptByResume } from "../src/run/resume-point.js";
import { allReusable, reusableRuns } from "../src/run/reuse.js";
import { cli, REPO, tmp } from "./helpers.js";

const PIPE = join(REPO, "pipelines", "example-regression.yaml");
const compile = async (sets: string[]) => {
  const registries = builtinRegistries();
  const r = await compilePipeline(PIPE, { overrides: sets, registries });
  return { p: r.pipeline!, registries };
};

describe("run trust: fingerprints, locks, the metrics log", () => {
  it("a finished run is reusable only with the configuration and inputs it was made with", async () => {
    const runs = tmp();
    const sets = ["--set", "stages.fit.epochs=1"];
    expect((await cli(["run", PIPE, "--backend", "cpu", "--runs-dir", runs, ...sets])).code).toBe(0);
    const same = await compile(["stages.fit.epochs=1"]);
    expect(allReusable(same.p, same.registries, runs)).toBe(true);
    const other = await compile(["stages.fit.epochs=1", "stages.fit.optimizer.lr=0.1"]);
    expect(reusableRuns(other.p, other.registries, runs)).toMatchObject([
      { stage: "fit", finished: true, matches: false },
    ]);
    const fp = JSON.parse(
      readFileSync(join(reusableRuns(same.p, same.registries, runs)[0].dir!, "fingerprint.json"), "utf8"),
    );
    expect(fp.keys["stages.fit.optimizer.lr"]).toBe("0.003");
    expect(fp.keys.seed).toBe("7");
    expect(Object.keys(fp.keys).some((k) => k.startsWith("plugin."))).toBe(true);
  });

  it("a lock of a live process is refused (VP231); a stale one (dead pid, torn file) is broken", () => {
    const dir = tmp();
    const a = RunLock.acquire(dir);
    let err: unknown;
    try {
      RunLock.acquire(dir);
    } catch (e) {
      err = e;
    }
    expect(isVoxelpipeError(err) && err.code).toBe("VP231");
    a.release();
    expect(existsSync(join(dir, "run.lock"))).toBe(false);
    // a pid that has exited
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]).stdout.toString();
    const deadLock = JSON.stringify({ pid: Number(dead), host: hostname(), started: "then" });
    writeFileSync(join(dir, "run.lock"), deadLock);
    RunLock.acquire(dir).release();
    expect(readdirSync(dir)).toEqual([]);
    // a breaker killed while breaking that lock left its break token: broken in turn
    writeFileSync(join(dir, "run.lock"), deadLock);
    writeFileSync(breakToken(join(dir, "run.lock"), deadLock), deadLock.replace("then", "later"));
    RunLock.acquire(dir).release();
    expect(readdirSync(dir)).toEqual([]);
    // killed while writing the lock (the O_EXCL fallback): torn, and stale once it is a second old
    writeFileSync(join(dir, "run.lock"), '{"pid": 12');
    utimesSync(join(dir, "run.lock"), new Date(Date.now() - 5000), new Date(Date.now() - 5000));
    RunLock.acquire(dir).release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it("the log drops a torn last line and rewinds to a checkpoint's (epoch, iteration), or to nothing", () => {
    const text = '{"epoch":1,"iteration":4}\n{"epoch":1,"iteration":8}\n{"epoch":1,"itera';
    expect(parseRecords(text)).toEqual({
      records: [
        { epoch: 1, iteration: 4 },
        { epoch: 1, iteration: 8 },
      ],
      torn: true,
    });
    const f = join(tmp(), "metrics.jsonl");
    const lines = [
      { epoch: 1, iteration: 4, loss: 1 },
      { epoch: 1, iteration: 8, loss: 0.5 },
      { epoch: 1, iteration: 8, val_mse: 0.4 }, // validation at the end of epoch 1
      { epoch: 2, iteration: 12, loss: 0.3 },
    ];
    writeFileSync(f, `${lines.map((l) => JSON.stringify(l)).join("\n")}\n{"epoch":2,"it`);
    const log = new MetricsLog(f);
    expect(log.keep(keptByResume({ epoch: 1, iteration: 8 }))).toEqual({ kept: 3, dropped: 1, torn: true });
    expect(readFileSync(f, "utf8")).toBe(
      `${lines
        .slice(0, 3)
        .map((l) => JSON.stringify(l))
        .join("\n")}\n`,
    );
    log.keep(keptByResume(undefined));
    expect(readFileSync(f, "utf8")).toBe("");
  });
});
