/**
 * On-disk cache of deterministic results (MONAI PersistentDataset): one safetensors file per item,
 * named by a hash of the record (with the size and mtime of the files it names, so an edited
 * image is recomputed) and of the deterministic transforms' config. Writes are atomic (temp file +
 * rename), so a killed run never leaves a half-written entry that a later run would trust.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { type Logger, type Sample, writeFileAtomicSync } from "@voxelpipe/core";
import { decodeSamples, encodeSamples } from "./sample-codec.js";

/** bump when the stored layout or the key recipe changes: old entries are then simply not found */
const FORMAT = 1;

/** Stable hash input: keys sorted, typed arrays by content, files named by path get size + mtime. */
function feed(h: ReturnType<typeof createHash>, v: unknown, baseDir: string): void {
  if (v === null || v === undefined || typeof v !== "object") {
    if (typeof v === "string" && /\.[A-Za-z0-9]+$/.test(v)) {
      const p = isAbsolute(v) ? v : resolve(baseDir, v);
      try {
        const st = statSync(p);
        if (st.isFile()) {
          h.update(`file:${v}:${st.size}:${st.mtimeMs}\u0000`);
          return;
        }
      } catch {
        // not a file: hashed as text
      }
    }
    h.update(`${typeof v}:${String(v)}\u0000`);
    return;
  }
  if (ArrayBuffer.isView(v)) {
    h.update(`${v.constructor.name}:${v.byteLength}:`);
    h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    return;
  }
  if (Array.isArray(v)) {
    h.update(`[${v.length}`);
    for (const x of v) feed(h, x, baseDir);
    h.update("]");
    return;
  }
  const keys = Object.keys(v).sort();
  h.update(`{${keys.length}`);
  for (const k of keys) {
    h.update(`${k}=`);
    feed(h, (v as Record<string, unknown>)[k], baseDir);
  }
  h.update("}");
}

export class DiskCache {
  readonly dir: string;

  /**
   * @param dir folder of the cache (created on first write)
   * @param config the deterministic transforms' config (part of every key)
   * @param baseDir relative paths in records resolve against it (for file stats)
   */
  constructor(
    dir: string,
    private readonly config: unknown,
    private readonly baseDir: string,
    private readonly logger?: Logger,
  ) {
    this.dir = resolve(baseDir, dir);
  }

  key(record: Sample): string {
    const h = createHash("sha256");
    h.update(`voxelpipe-cache:${FORMAT}\u0000`);
    feed(h, this.config, this.baseDir);
    feed(h, record, this.baseDir);
    return h.digest("hex").slice(0, 32);
  }

  file(key: string): string {
    return join(this.dir, `${key}.safetensors`);
  }

  /** the cached result, or undefined when absent (or unreadable: then it is recomputed) */
  read(key: string): Sample[] | undefined {
    const f = this.file(key);
    if (!existsSync(f)) return undefined;
    try {
      return decodeSamples(readFileSync(f), f).samples;
    } catch (e) {
      this.logger?.warn(`ignoring unreadable cache entry ${f}: ${(e as Error).message.split("\n")[0]}`);
      return undefined;
    }
  }

  write(key: string, samples: Sample[], subject: string): void {
    const f = this.file(key);
    try {
      writeFileAtomicSync(f, encodeSamples(samples, { subject }));
    } catch (e) {
      // a cache that cannot be written costs time, not correctness
      this.logger?.warn(`cannot write cache entry ${f}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
}
