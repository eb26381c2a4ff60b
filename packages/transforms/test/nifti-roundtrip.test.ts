import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { Volume, VoxelArray } from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import { qformFromAffine } from "../src/io/nifti-affine.js";
import { type NiftiDtype, SUPPORTED_DTYPES } from "../src/io/nifti-dtypes.js";
import { parseNifti, readNifti, readNiftiSync } from "../src/io/nifti-read.js";
import { encodeNifti, writeNifti, writeNiftiSync } from "../src/io/nifti-write.js";
import { channelLastToFortran, fortranToChannelLast } from "../src/io/transpose.js";
import { craftNifti2, diag, makeVolume, rawVoxel, tmpDir, toBigEndian } from "./nifti-helpers.js";

const CTORS: Record<NiftiDtype, new (n: number) => VoxelArray> = {
  uint8: Uint8Array,
  int8: Int8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  float32: Float32Array,
  float64: Float64Array,
};

/** values that exercise each type's extremes, sign and (for floats) fractions */
function valuesFor(dtype: NiftiDtype): (i: number, j: number, k: number, c: number) => number {
  const extremes: Record<NiftiDtype, number[]> = {
    uint8: [0, 255, 1, 128],
    int8: [-128, 127, 0, -1],
    int16: [-32768, 32767, 0, -1024],
    uint16: [0, 65535, 1, 40000],
    int32: [-2147483648, 2147483647, 0, -1207],
    uint32: [0, 4294967295, 1, 3000000000],
    float32: [-3.4028234663852886e38, 1.1754943508222875e-38, 0.5, -1024.25],
    float64: [-1.7976931348623157e308, 5e-324, Math.PI, -1e-300],
  };
  const ex = extremes[dtype];
  return (i, j, k, c) => {
    const n = ((i * 7 + j) * 5 + k) * 3 + c;
    return n < ex.length ? ex[n] : ((n * 37) % (dtype.startsWith("u") ? 200 : 101)) - (dtype.startsWith("u") ? 0 : 50);
  };
}

function expectSameVolume(got: Volume, want: Volume): void {
  expect(got.data.constructor).toBe(want.data.constructor);
  expect(got.shape).toEqual(want.shape);
  expect(got.channels).toBe(want.channels);
  expect(Array.from(got.affine)).toEqual(Array.from(want.affine));
  expect(got.data.length).toBe(want.data.length);
  // exact equality, element by element (NaN-free inputs)
  let mismatches = 0;
  for (let p = 0; p < want.data.length; p++) if (got.data[p] !== want.data[p]) mismatches++;
  expect(mismatches).toBe(0);
}

describe("Fortran ↔ channel-last transpose", () => {
  it("puts file element i + S0*(j + S1*(k + S2*c)) at ((i*S1+j)*S2+k)*C+c (hand-computed)", () => {
    const shape: [number, number, number] = [2, 3, 4];
    const C = 2;
    const n = 2 * 3 * 4 * C;
    const fortran = Float64Array.from({ length: n }, (_, f) => f);
    const out = new Float64Array(n);
    fortranToChannelLast(fortran, out, shape, C);
    // voxel (1,2,3) channel 0: file index 1 + 2*(2 + 3*3) = 23; its C-order index ((1*3+2)*4+3)*2 = 46
    expect(out[46]).toBe(23);
    // channel 1 of the same voxel: 23 + 24
    expect(out[47]).toBe(47);
    // voxel (0,1,0) channel 0: file index 2; C-order index ((0*3+1)*4+0)*2 = 8
    expect(out[8]).toBe(2);
    const back = new Float64Array(n);
    channelLastToFortran(out, back, shape, C);
    expect(Array.from(back)).toEqual(Array.from(fortran));
  });

  it("handles grids that are not multiples of the tile sizes, with type conversion", () => {
    const shape: [number, number, number] = [37, 9, 70];
    const n = 37 * 9 * 70;
    const fortran = Int16Array.from({ length: n }, (_, f) => f % 30000);
    const out = new Float32Array(n);
    fortranToChannelLast(fortran, out, shape, 1);
    for (const [i, j, k] of [
      [36, 8, 69],
      [0, 0, 69],
      [33, 4, 31],
    ]) {
      expect(out[(i * 9 + j) * 70 + k]).toBe((i + 37 * (j + 9 * k)) % 30000);
    }
  });
});

describe("NIfTI-1 encode → parse round trip", () => {
  const affine = diag(-0.75, 0.75, 2.5, [120.5, -98.25, -300]);

  for (const dtype of SUPPORTED_DTYPES) {
    it(`is exact for ${dtype} (little- and big-endian)`, () => {
      const vol = makeVolume([7, 5, 3], 1, CTORS[dtype], valuesFor(dtype), affine);
      const bytes = encodeNifti(vol);
      const dv = new DataView(bytes.buffer);
      expect(dv.getInt16(70, true)).toBe(
        { uint8: 2, int16: 4, int32: 8, float32: 16, float64: 64, int8: 256, uint16: 512, uint32: 768 }[dtype],
      );
      const le = parseNifti(bytes, "le.nii");
      expectSameVolume(le, vol);
      expect(le.meta.originalDtype).toBe(dtype);
      expect(le.meta.source).toBe("le.nii");
      const be = parseNifti(toBigEndian(bytes), "be.nii");
      expect((be.meta.nifti as { littleEndian: boolean }).littleEndian).toBe(false);
      expectSameVolume(be, vol);
    });
  }

  it("reads from Node Buffers at odd offsets without touching the caller's bytes", () => {
    const vol = makeVolume([5, 4, 3], 1, Float32Array, (i, j, k) => i - j * 0.25 + k * 8, affine);
    const le = encodeNifti(vol);
    for (const bytes of [
      le,
      toBigEndian(le),
      new Uint8Array(gzipSync(le)),
      new Uint8Array(gzipSync(toBigEndian(le))),
    ]) {
      const pool = Buffer.alloc(bytes.length + 3, 0xee);
      pool.set(bytes, 3);
      const view = pool.subarray(3); // a Buffer with byteOffset 3 into a larger ArrayBuffer
      const before = Buffer.from(view);
      expectSameVolume(parseNifti(view, "buf.nii"), vol);
      expect(view.equals(before)).toBe(true);
    }
  });

  it("stores voxels Fortran-order on disk (read back byte by byte)", () => {
    const vol = makeVolume([4, 3, 2], 1, Int16Array, (i, j, k) => 100 * i + 10 * j + k);
    const bytes = encodeNifti(vol);
    expect(rawVoxel(bytes, 352, [4, 3, 2], "int16", [3, 2, 1, 0])).toBe(321);
    expect(rawVoxel(bytes, 352, [4, 3, 2], "int16", [1, 0, 1, 0])).toBe(101);
    // the first bytes after the header are voxels (0,0,0), (1,0,0), (2,0,0): i runs fastest
    expect(Array.from(new Int16Array(bytes.buffer, 352, 3))).toEqual([0, 100, 200]);
  });

  it("reads a hand-made 2×2×1 uint8 file: file order [1,2,3,4] → C-order [1,3,2,4]", () => {
    const vol = makeVolume([2, 2, 1], 1, Uint8Array, () => 0);
    const bytes = encodeNifti(vol);
    bytes.set([1, 2, 3, 4], 352);
    expect(Array.from(parseNifti(bytes, "tiny.nii").data)).toEqual([1, 3, 2, 4]);
  });

  it("round-trips 4-D files: the 4th dim becomes channels", () => {
    const vol = makeVolume([5, 4, 3], 3, Float32Array, (i, j, k, c) => i + 0.5 * j - k + 100 * c, affine);
    const bytes = encodeNifti(vol);
    const dv = new DataView(bytes.buffer);
    expect([0, 1, 2, 3, 4].map((d) => dv.getInt16(40 + 2 * d, true))).toEqual([4, 5, 4, 3, 3]);
    // channel 2 of voxel (4,3,2) sits in the third 3-D block of the file
    expect(rawVoxel(bytes, 352, [5, 4, 3], "float32", [4, 3, 2, 2])).toBe(4 + 1.5 - 2 + 200);
    expectSameVolume(parseNifti(bytes, "4d.nii"), vol);
  });

  it("stores the affine as float32 (NIfTI-1): exact for float32 values, otherwise rounded to float32", () => {
    const vol = makeVolume([2, 2, 2], 1, Uint8Array, () => 0, diag(0.8, 0.8, 3, [-177.95632934570312, 0.1, 0]));
    const got = parseNifti(encodeNifti(vol), "f32.nii").affine;
    expect(Array.from(got)).toEqual(Array.from(vol.affine).map(Math.fround));
    expect(got[0]).not.toBe(0.8);
    expect(got[3]).toBe(-177.95632934570312);
  });

  it("converts to the requested dtype, rounding and clamping integers", () => {
    const vol = makeVolume([5, 1, 1], 1, Float32Array, (i) => [0.4, 1.6, -3, 300, Number.NaN][i]);
    expect(Array.from(parseNifti(encodeNifti(vol, { dtype: "uint8" }), "u8.nii").data)).toEqual([0, 2, 0, 255, 0]);
    expect(Array.from(parseNifti(encodeNifti(vol, { dtype: "int16" }), "i16.nii").data)).toEqual([0, 2, -3, 300, 0]);
    const i32 = makeVolume([2, 1, 1], 1, Int32Array, (i) => [70000, -5][i]);
    expect(Array.from(parseNifti(encodeNifti(i32, { dtype: "int16" }), "c.nii").data)).toEqual([32767, -5]);
    expect(parseNifti(encodeNifti(i32, { dtype: "float32" }), "f.nii").data).toBeInstanceOf(Float32Array);
  });

  it("reads NIfTI-2 files, both byte orders", () => {
    const vol = makeVolume([6, 4, 3], 2, Float32Array, (i, j, k, c) => i * 1.5 - j + k * 10 + c * 1000, affine);
    for (const le of [true, false]) {
      const got = parseNifti(craftNifti2(vol, "float32", le), "v2.nii");
      expect((got.meta.nifti as { version: number }).version).toBe(2);
      expectSameVolume(got, vol);
    }
    const labels = makeVolume([3, 3, 3], 1, Int16Array, (i, j, k) => i * 9 + j * 3 + k - 13, diag(2, 2, 2));
    expectSameVolume(parseNifti(craftNifti2(labels, "int16", false), "v2be.nii"), labels);
  });

  it("applies scl_slope/scl_inter as nibabel does", () => {
    const vol = makeVolume([3, 2, 1], 1, Int16Array, (i, j) => i * 10 + j - 5);
    const withScale = (slope: number, inter: number) => {
      const b = encodeNifti(vol);
      const dv = new DataView(b.buffer);
      dv.setFloat32(112, slope, true);
      dv.setFloat32(116, inter, true);
      return parseNifti(b, "scaled.nii");
    };
    const scaled = withScale(2, -1);
    expect(scaled.data).toBeInstanceOf(Float32Array);
    expect(Array.from(scaled.data)).toEqual(Array.from(vol.data).map((v) => 2 * v - 1));
    expect(scaled.meta.originalDtype).toBe("int16");
    expect(Array.from(withScale(0.5, 0).data)).toEqual(Array.from(vol.data).map((v) => v / 2));
    // slope 0 or NaN: no scaling; slope 1 & inter 0: no scaling; the integer type is kept
    for (const [s, i] of [
      [0, 7],
      [Number.NaN, 7],
      [1, 0],
    ]) {
      const got = withScale(s, i);
      expect(got.data).toBeInstanceOf(Int16Array);
      expect(Array.from(got.data)).toEqual(Array.from(vol.data));
    }
    // slope 1 with an intercept still scales
    expect(Array.from(withScale(1, 1024).data)).toEqual(Array.from(vol.data).map((v) => v + 1024));
  });

  it("keeps description, intent and xform codes from meta.nifti when rewriting", () => {
    const vol = makeVolume([2, 2, 2], 1, Uint8Array, (i, j, k) => i + j + k);
    const b = encodeNifti(vol);
    const dv = new DataView(b.buffer);
    b.set(Buffer.from("TotalSegmentator labels", "latin1"), 148);
    dv.setInt16(68, 1002, true); // NIFTI_INTENT_LABEL
    b.set(Buffer.from("organs", "latin1"), 328);
    dv.setInt16(252, 1, true);
    dv.setInt16(254, 4, true);
    const read = parseNifti(b, "meta.nii");
    const nifti = read.meta.nifti as Record<string, unknown>;
    expect(nifti.descrip).toBe("TotalSegmentator labels");
    expect(nifti.intent_code).toBe(1002);
    expect(nifti.intent_name).toBe("organs");
    const again = parseNifti(encodeNifti(read), "again.nii").meta.nifti as Record<string, unknown>;
    expect(again).toMatchObject({
      descrip: "TotalSegmentator labels",
      intent_code: 1002,
      intent_name: "organs",
      qform_code: 1,
      sform_code: 4,
    });
  });
});

describe("affines: sform / qform / pixdim as nibabel chooses them", () => {
  const vol = makeVolume([10, 20, 30], 1, Uint8Array, () => 1);
  function header(edit: (dv: DataView) => void, a: Float64Array = diag(1, 1, 1)): Volume {
    const b = encodeNifti({ ...vol, affine: a });
    edit(new DataView(b.buffer));
    return parseNifti(b, "affine.nii");
  }
  const setQuat = (dv: DataView, b: number, c: number, d: number, off: [number, number, number], pix: number[]) => {
    dv.setFloat32(256, b, true);
    dv.setFloat32(260, c, true);
    dv.setFloat32(264, d, true);
    off.forEach((o, i) => {
      dv.setFloat32(268 + 4 * i, o, true);
    });
    pix.forEach((p, i) => {
      dv.setFloat32(76 + 4 * i, p, true);
    });
  };

  it("uses the sform when sform_code > 0, even if the qform differs", () => {
    const got = header(
      (dv) => {
        dv.setInt16(252, 1, true);
        dv.setInt16(254, 1, true);
        setQuat(dv, 1, 0, 0, [9, 9, 9], [1, 5, 5, 5]);
      },
      diag(2, 3, 4, [1, 2, 3]),
    );
    expect(Array.from(got.affine)).toEqual(Array.from(diag(2, 3, 4, [1, 2, 3])));
    expect(got.meta.affineSource).toBe("sform");
  });

  it("uses the qform when sform_code is 0: 180° about x, qfac ±1 (hand-computed)", () => {
    // quaternion (a,b,c,d) = (0,1,0,0) → R = diag(1,−1,−1); affine = R·diag(2, 3, qfac·4) + offset
    const q = (qfac: number) =>
      header((dv) => {
        dv.setInt16(252, 1, true);
        dv.setInt16(254, 0, true);
        for (let i = 0; i < 12; i++) dv.setFloat32(280 + 4 * i, Number.NaN, true); // unused sform is ignored
        setQuat(dv, 1, 0, 0, [10, -20, 30], [qfac, 2, 3, 4]);
      });
    expect(Array.from(q(1).affine)).toEqual(Array.from(diag(2, -3, -4, [10, -20, 30])));
    expect(Array.from(q(-1).affine)).toEqual(Array.from(diag(2, -3, 4, [10, -20, 30])));
    expect(q(1).meta.affineSource).toBe("qform");
    // nibabel resets a pixdim[0] other than ±1 to 1
    const q0 = header((dv) => {
      dv.setInt16(252, 2, true);
      dv.setInt16(254, 0, true);
      setQuat(dv, 1, 0, 0, [0, 0, 0], [0, 2, 3, 4]);
    });
    expect(Array.from(q0.affine)).toEqual(Array.from(diag(2, -3, -4)));
  });

  it("qform with a 90° rotation about z", () => {
    const s = Math.SQRT1_2;
    const got = header((dv) => {
      dv.setInt16(252, 1, true);
      dv.setInt16(254, 0, true);
      setQuat(dv, 0, 0, s, [0, 0, 0], [1, 2, 2, 2]);
    });
    // R = [[0,−1,0],[1,0,0],[0,0,1]] (float32 rounding of sin 45° leaves ~1e-7 off the zeros)
    const want = [0, -2, 0, 0, 2, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1];
    Array.from(got.affine).forEach((v, i) => {
      expect(v).toBeCloseTo(want[i], 6);
    });
  });

  it("falls back to nibabel's base affine (x flipped, centred) without sform/qform", () => {
    const got = header((dv) => {
      dv.setInt16(252, 0, true);
      dv.setInt16(254, 0, true);
      [1, 2, 3, 4].forEach((p, i) => {
        dv.setFloat32(76 + 4 * i, p, true);
      });
    });
    // diag(−2, 3, 4); translation −((n−1)/2)·zoom = (4.5·2, −9.5·3, −14.5·4)
    expect(Array.from(got.affine)).toEqual(Array.from(diag(-2, 3, 4, [9, -28.5, -58])));
    expect(got.meta.affineSource).toBe("pixdim");
    // zero voxel sizes become 1 and negative ones their abs (nibabel's header fix on load)
    const fixed = header((dv) => {
      dv.setInt16(252, 0, true);
      dv.setInt16(254, 0, true);
      [1, -2, 0, 4].forEach((p, i) => {
        dv.setFloat32(76 + 4 * i, p, true);
      });
    });
    expect(Array.from(fixed.affine)).toEqual(Array.from(diag(-2, 1, 4, [9, -9.5, -58])));
  });

  it("writes a qform equal to the affine for rotations (incl. left-handed), qform_code 0 for shears", () => {
    const c = Math.cos(Math.PI / 6);
    const s = Math.sin(Math.PI / 6);
    const rotated = Float64Array.from([0.8 * c, -0.8 * s, 0, -50, 0.8 * s, 0.8 * c, 0, 20, 0, 0, -3, 7, 0, 0, 0, 1]);
    for (const a of [diag(-0.8, -0.8, 3, [50.4, 50.4, -10]), diag(-1, 2, 3), rotated]) {
      const b = encodeNifti({ ...vol, affine: a });
      const dv = new DataView(b.buffer);
      expect(dv.getInt16(252, true)).toBe(2);
      expect(dv.getInt16(254, true)).toBe(2);
      dv.setInt16(254, 0, true); // hide the sform: the qform alone must place the image
      const viaQ = parseNifti(b, "q.nii").affine;
      Array.from(a).forEach((v, i) => {
        expect(viaQ[i]).toBeCloseTo(v, 5);
      });
    }
    // pixdim = column norms, pixdim[0] = qfac
    const left = new DataView(encodeNifti({ ...vol, affine: diag(-1, 2, 3) }).buffer);
    expect([0, 1, 2, 3].map((i) => left.getFloat32(76 + 4 * i, true))).toEqual([-1, 1, 2, 3]);
    const shear = Float64Array.from([1, 0.5, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    expect(qformFromAffine(shear).isRotation).toBe(false);
    const sb = encodeNifti({ ...vol, affine: shear });
    expect(new DataView(sb.buffer).getInt16(252, true)).toBe(0);
    expect(Array.from(parseNifti(sb, "shear.nii").affine)).toEqual(Array.from(shear));
  });
});

describe("files: writeNifti / readNifti / readNiftiSync", () => {
  it("round-trips .nii and .nii.gz through the file system, sync and async alike", async () => {
    const dir = tmpDir();
    const vol = makeVolume(
      [33, 17, 9],
      1,
      Int16Array,
      (i, j, k) => i * 100 - j * 7 + k,
      diag(1.5, 1.5, 2, [-20, 30, 40]),
    );
    for (const name of ["a.nii", "b.nii.gz", "sub/dir/c.nii.gz"]) {
      const p = join(dir, name);
      await writeNifti(p, vol);
      const gz = readFileSync(p);
      expect(gz[0] === 0x1f && gz[1] === 0x8b).toBe(name.endsWith(".gz"));
      expectSameVolume(await readNifti(p), vol);
      expectSameVolume(readNiftiSync(p), vol);
      expect((await readNifti(p)).meta.source).toBe(p);
    }
    const p = join(dir, "sync.nii.gz");
    writeNiftiSync(p, vol, { dtype: "float32" });
    const f = readNiftiSync(p);
    expect(f.data).toBeInstanceOf(Float32Array);
    expect(Array.from(f.data)).toEqual(Array.from(vol.data));
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("float32 option converts while transposing (scaled files stay float32 too)", async () => {
    const dir = tmpDir();
    const vol = makeVolume([9, 7, 5], 2, Int32Array, (i, j, k, c) => i * 1000 - j * 10 + k - c * 77777, diag(2, 2, 2));
    const p = join(dir, "f.nii.gz");
    writeNiftiSync(p, vol);
    for (const got of [readNiftiSync(p, { float32: true }), await readNifti(p, { float32: true })]) {
      expect(got.data).toBeInstanceOf(Float32Array);
      expect(Array.from(got.data)).toEqual(Array.from(vol.data));
      expect(got.meta.originalDtype).toBe("int32");
    }
  });

  it("decodes gzip by content, not by file name", async () => {
    const dir = tmpDir();
    const vol = makeVolume([4, 4, 4], 1, Uint8Array, (i, j, k) => i ^ j ^ k);
    const p = join(dir, "really-gzipped.nii");
    writeFileSync(p, gzipSync(encodeNifti(vol)));
    expectSameVolume(await readNifti(p), vol);
    const q = join(dir, "plain.nii.gz");
    writeFileSync(q, encodeNifti(vol));
    expectSameVolume(readNiftiSync(q), vol);
  });

  it("reads data at vox_offset past a header extension", () => {
    const vol = makeVolume([3, 3, 2], 1, Uint8Array, (i, j, k) => 1 + i + 3 * j + 9 * k);
    const plain = encodeNifti(vol);
    const ext = 13168 - 352; // TotalSegmentator label files carry an XML extension this size
    const b = new Uint8Array(plain.length + ext);
    b.set(plain.subarray(0, 352));
    b[348] = 1; // extension flag
    new DataView(b.buffer).setInt32(352, ext, true); // esize
    new DataView(b.buffer).setInt32(356, 6, true); // ecode: DICOM/XML-ish, any code
    b.set(plain.subarray(352), 13168);
    new DataView(b.buffer).setFloat32(108, 13168, true);
    expectSameVolume(parseNifti(b, "ext.nii"), vol);
    expectSameVolume(parseNifti(gzipSync(b), "ext.nii.gz"), vol);
  });
});
