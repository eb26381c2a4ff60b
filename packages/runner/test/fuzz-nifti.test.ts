/**
 * Property-based fuzzing of NIfTI headers against nibabel (the committed corpus
 * packages/transforms/test/fixtures/nibabel-affines.json, generated offline with nibabel):
 * - any int16 qform_code / sform_code on any corpus header gives nibabel's affine for the codes
 *   nibabel keeps (invalid ones count as 0), with a warning exactly when a code is invalid;
 * - any mutation of header bytes gives a volume with a finite affine or a VoxelpipeError (VP003 /
 *   VP240), never another exception, a hang or a huge allocation (the size limit is set small).
 * Fixed seed; outcome counts are printed.
 */
import { readFileSync } from "node:fs";
import { isVoxelpipeError } from "@voxelpipe/core";
import { MAX_IMAGE_BYTES_ENV, parseNifti, setNiftiWarningHandler } from "@voxelpipe/transforms";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const SEED = 20_261_206;
interface Case {
  name: string;
  header: string;
  affine?: number[];
}
const corpus = JSON.parse(
  readFileSync(new URL("../../transforms/test/fixtures/nibabel-affines.json", import.meta.url), "utf8"),
) as { cases: Case[] };
const byName = new Map(corpus.cases.map((c) => [c.name, c]));
const VALID = new Set([0, 1, 2, 3, 4, 5]);
/** a code: valid ones and the classic invalid ones as often as any int16 */
const code = () =>
  fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 5, 6, -1, 127, 255, -32768), fc.integer({ min: -32768, max: 32767 }));
const counts: Record<string, number> = {};
const count = (k: string) => {
  counts[k] = (counts[k] ?? 0) + 1;
};
const warnings: string[] = [];
let runs = 0;
const saved = process.env[MAX_IMAGE_BYTES_ENV];

beforeAll(() => {
  process.env[MAX_IMAGE_BYTES_ENV] = "64MiB";
  setNiftiWarningHandler((m) => warnings.push(m));
});
afterAll(() => {
  if (saved === undefined) delete process.env[MAX_IMAGE_BYTES_ENV];
  else process.env[MAX_IMAGE_BYTES_ENV] = saved;
  setNiftiWarningHandler((m) => process.stderr.write(`warning: ${m}\n`));
  console.log(`NIfTI fuzz outcomes: ${JSON.stringify(counts)}`);
});

describe("fuzz: NIfTI headers vs nibabel", () => {
  it("any int16 qform/sform codes: nibabel's affine for the codes it keeps, a warning iff a code is invalid", () => {
    const bases = [1, 2, 3, 4, 5].map((q) => byName.get(`qform_code ${q}, sform_code 1`)!);
    fc.assert(
      fc.property(fc.nat(bases.length - 1), code(), code(), (b, q, s) => {
        const bytes = Buffer.from(bases[b].header, "base64");
        bytes.writeInt16LE(q, 252);
        bytes.writeInt16LE(s, 254);
        const want = byName.get(`qform_code ${VALID.has(q) ? q : 0}, sform_code ${VALID.has(s) ? s : 0}`)!.affine!;
        warnings.length = 0;
        const source = `fuzz-${++runs}-${b}-${q}-${s}`; // unique: warnings are shown once per file and message
        const got = parseNifti(bytes, source).affine;
        for (let i = 0; i < 16; i++)
          expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want[i])));
        const invalid = Number(!VALID.has(q)) + Number(!VALID.has(s));
        expect(warnings.filter((w) => w.startsWith(source))).toHaveLength(invalid);
        count(["codes: both valid", "codes: one invalid", "codes: both invalid"][invalid]);
      }),
      { seed: SEED, numRuns: 600 },
    );
  });

  it("any header byte mutation: a finite affine or a VoxelpipeError, nothing else", () => {
    fc.assert(
      fc.property(
        fc.nat(corpus.cases.length - 1),
        fc.array(fc.tuple(fc.nat(351), fc.nat(255)), { minLength: 1, maxLength: 6 }),
        (c, edits) => {
          const bytes = Buffer.from(corpus.cases[c].header, "base64");
          for (const [at, v] of edits) bytes[at] = v;
          try {
            const vol = parseNifti(bytes, "mutated.nii");
            expect([...vol.affine].every(Number.isFinite)).toBe(true);
            count("mutated: read");
          } catch (e) {
            if (!isVoxelpipeError(e)) throw e;
            count(`mutated: ${e.code}`);
          }
        },
      ),
      { seed: SEED, numRuns: 1500 },
    );
  });
});
