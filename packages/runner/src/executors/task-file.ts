import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { fileURLToPath } from "node:url";
import { Codes, VoxelpipeError, writeFileAtomicSync } from "@voxelpipe/core";
import type { Task } from "./types.js";

/**
 * The voxelpipe entry point a child process or a job script runs: `node <bin> <argv...>`. Always an
 * absolute path (job scripts run elsewhere). Tests run the sources, whose children use the built bin.
 */
export function voxelpipeBin(): string {
  const here = import.meta.url;
  // src/executors/task-file.ts and dist/executors/task-file.js both lie two folders below the package
  return fileURLToPath(new URL("../../bin/voxelpipe.js", here));
}

/** what a job script needs to run task `i`: the command lines and the folder they run in */
export interface TaskFile {
  cwd: string;
  tasks: { id: string; argv: string[] }[];
}

export function writeTaskFile(file: string, cwd: string, tasks: Task[]): void {
  const body: TaskFile = { cwd, tasks: tasks.map((t) => ({ id: t.id, argv: t.argv })) };
  writeFileAtomicSync(file, `${JSON.stringify(body, null, 2)}\n`);
}

/**
 * Read a task file on the node that runs the task. A file that is not there means the runs folder
 * is not shared with this node (or not at the same path): VP274, naming the node.
 */
export function readTaskFile(file: string): TaskFile {
  if (!existsSync(file)) {
    throw new VoxelpipeError({
      code: Codes.sharedFilesystem,
      message: `task file ${file} is not visible on ${hostname()}`,
      hint: "the runs folder must be on a filesystem every node mounts at the same path (e.g. a home or project folder on NFS/Lustre); pass --runs-dir there",
    });
  }
  try {
    const t = JSON.parse(readFileSync(file, "utf8")) as TaskFile;
    if (typeof t.cwd !== "string" || !Array.isArray(t.tasks)) throw new Error("not a task file");
    return t;
  } catch (e) {
    throw new VoxelpipeError({
      code: Codes.sharedFilesystem,
      message: `task file ${file} cannot be read on ${hostname()}: ${(e as Error).message}`,
      hint: "was it written by this voxelpipe version, and is the runs folder shared with every node?",
    });
  }
}
