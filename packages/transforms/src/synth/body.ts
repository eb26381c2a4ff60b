import type { Anatomy } from "./anatomy.js";
import { type Box, Ellipsoid, padBox } from "./geometry.js";
import type { Structure } from "./raster.js";

/**
 * Unlabelled context: body wall, fat, lungs and heart above the diaphragm, spine, ribs, muscles and the table.
 * Priorities: fat 1, table 2, lung 3, diaphragm 4, mediastinum 5, heart 9; bone and muscle 50–61 so that no organ
 * is ever painted into them.
 */

const Z_ALL = 400; // mm; taller than any field of view

/** the table is outside the patient: no inhomogeneity field there */
export const TABLE_PRIORITY = 2;

function box(x0: number, x1: number, y0: number, y1: number, z0 = -Z_ALL, z1 = Z_ALL): Box {
  return { min: [x0, y0, z0], max: [x1, y1, z1] };
}

export function bodyStructures(an: Anatomy): Structure[] {
  // Long by design: a data table of the body structures (wall and fat, table, lungs, diaphragm, heart, spine,
  // muscles, ribs) in drawing order; one seeded stream runs through it in this order.
  const { body, hu, rng } = an;
  const out: Structure[] = [];
  const A = an.halfWidth(-Z_ALL);
  const Bant = an.halfDepth(1);
  const Bpost = an.halfDepth(-1);

  out.push({
    name: "body wall and fat",
    label: 0,
    priority: 1,
    box: box(-A, A, -Bpost, Bant),
    sample(x, y, z) {
      if (an.outline(x, y, z, 0) >= 1) return Number.NaN;
      if (an.outline(x, y, z, body.skin) >= 1) return hu.skin;
      if (an.outline(x, y, z, body.skin + body.fat) >= 1) return hu.fat;
      if (an.outline(x, y, z, an.cavityInset) >= 1) return hu.muscle;
      return hu.fat + 10; // visceral fat is a little denser than subcutaneous fat
    },
  });

  // carbon table under the back, curved like a cradle
  const tableTop = -Bpost - rng.uniform(1, 6);
  out.push({
    name: "table",
    label: 0,
    priority: TABLE_PRIORITY,
    box: box(-220, 220, tableTop - 10, tableTop + 40),
    sample(x, y) {
      const top = tableTop + (x * x) / 3000;
      return y <= top && y > top - 12 && Math.abs(x) < 210 ? hu.table : Number.NaN;
    },
  });

  // above the diaphragm: lung bases, the diaphragm muscle itself, mediastinal fat and the heart
  const thoraxBox = box(-A, A, -Bpost, Bant, 40, Z_ALL);
  out.push({
    name: "lung bases",
    label: 0,
    priority: 3,
    box: thoraxBox,
    sample(x, y, z) {
      if (!an.inCavity(x, y, z) || z <= an.diaphragmZ(x, y) + 3) return Number.NaN;
      // faint vessel texture so lungs are not flat
      return hu.lung + 25 * Math.sin(0.21 * x + 0.3 * z) * Math.sin(0.17 * y - 0.23 * z);
    },
  });
  out.push({
    name: "diaphragm",
    label: 0,
    priority: 4,
    box: thoraxBox,
    sample(x, y, z) {
      return an.inCavity(x, y, z) && Math.abs(z - an.diaphragmZ(x, y)) <= 3 ? hu.muscle : Number.NaN;
    },
  });
  const medHalf = rng.uniform(22, 32);
  out.push({
    name: "mediastinum",
    label: 0,
    priority: 5,
    box: box(-medHalf, medHalf, -Bpost, Bant, 40, Z_ALL),
    sample(x, y, z) {
      return Math.abs(x) < medHalf && an.inCavity(x, y, z) && z > an.diaphragmZ(x, y) + 3 ? hu.fat : Number.NaN;
    },
  });
  const heart = new Ellipsoid(
    an.move([-15, 38, an.domeR[2] + 50], [10, 6, 8]),
    an.grow([80, 55, 62], 0.1),
    an.turn(20, 0, 0, 10),
  );
  out.push({
    name: "heart",
    label: 0,
    priority: 9,
    box: heart.box,
    sample(x, y, z) {
      return heart.radius(x, y, z) < 1 && z > an.diaphragmZ(x, y) + 3 && an.inCavity(x, y, z) ? hu.heart : Number.NaN;
    },
  });

  out.push(...spine(an));
  out.push(...muscles(an));
  out.push(ribs(an));
  return out;
}

/** vertebral bodies with discs, canal, pedicles, laminae, spinous and transverse processes */
function spine(an: Anatomy): Structure[] {
  const { hu, rng } = an;
  const yS = an.spineY;
  const period = rng.uniform(30, 36); // vertebra + disc height
  const discH = rng.uniform(6, 9);
  const zPhase = rng.uniform(0, period);
  const [ax, ay] = [rng.uniform(20, 24), rng.uniform(16, 19)];
  const canalY = yS - ay - 11;
  const bone = (x: number, y: number, z: number): number => {
    if (an.outline(x, y, z, an.body.skin + 6) >= 1) return Number.NaN;
    const m = (((z - zPhase) % period) + period) % period;
    const inDisc = m < discH;
    const f = (m - discH) / (period - discH); // 0..1 along the vertebra
    const ex = x / ax;
    const ey = (y - yS) / ay;
    const r2 = ex * ex + ey * ey;
    if (r2 < 1) {
      if (inDisc) return hu.disc;
      const cortex = 2.5 / Math.min(ax, ay);
      return r2 < (1 - cortex) * (1 - cortex)
        ? hu.boneCancellous + 40 * Math.sin(0.9 * x) * Math.sin(0.8 * z)
        : hu.boneCortex;
    }
    const dx = x;
    const dy = y - canalY;
    const rc = Math.sqrt(dx * dx + dy * dy);
    if (rc < 9) return hu.csf;
    if (inDisc) return Number.NaN;
    const ax2 = Math.abs(x);
    // pedicles and laminae: a ring around the canal, open toward the vertebral body
    if (rc < 14 && dy < 4) return hu.boneCortex * 0.8;
    if (ax2 < 12 && ax2 > 6 && y > canalY && y < yS - ay + 2) return hu.boneCortex * 0.8;
    // spinous process in the middle of the vertebra, transverse processes near its top
    if (ax2 < 4 && y < canalY - 12 && y > canalY - 34 && f > 0.2 && f < 0.85) return hu.boneCortex * 0.8;
    if (ax2 > 12 && ax2 < 40 && Math.abs(y - (canalY + 6)) < 4 && f > 0.45 && f < 0.8) return hu.boneCortex * 0.75;
    return Number.NaN;
  };
  return [
    {
      name: "spine",
      label: 0,
      priority: 60,
      box: box(-46, 46, canalY - 42, yS + ay + 1),
      sample: bone,
    },
  ];
}

/** paraspinal muscles behind the spine and psoas muscles that grow toward the pelvis */
function muscles(an: Anatomy): Structure[] {
  const { hu, rng } = an;
  const yS = an.spineY;
  const out: Structure[] = [];
  const para = [-1, 1].map(
    (side) =>
      new Ellipsoid(
        [side * rng.uniform(28, 34), yS - rng.uniform(38, 44), 0],
        [rng.uniform(20, 25), rng.uniform(16, 20), 1e6],
      ),
  );
  out.push({
    name: "paraspinal muscles",
    label: 0,
    priority: 55,
    box: padBox(unionXY(para[0].box, para[1].box), 1),
    sample(x, y, z) {
      if (an.outline(x, y, z, an.body.skin + 4) >= 1) return Number.NaN;
      return para[0].radius(x, y, z) < 1 || para[1].radius(x, y, z) < 1 ? hu.muscle : Number.NaN;
    },
  });
  const psoasTop = rng.uniform(10, 40);
  const psoasMax = rng.uniform(18, 24);
  const psoasR = (z: number) => Math.min(1, Math.max(0, (psoasTop - z) / 160)) * psoasMax;
  out.push({
    name: "psoas muscles",
    label: 0,
    priority: 55,
    box: box(-80, 80, yS - 30, yS + 30, -Z_ALL, psoasTop),
    sample(x, y, z) {
      const r = psoasR(z);
      if (r < 3) return Number.NaN;
      const cx = 20 + 0.9 * r;
      const ex = (Math.abs(x) - cx) / r;
      const ey = (y - (yS + 4)) / (0.85 * r);
      return ex * ex + ey * ey < 1 ? hu.muscle : Number.NaN;
    },
  });
  return out;
}

function unionXY(a: Box, b: Box): Box {
  return {
    min: [Math.min(a.min[0], b.min[0]), Math.min(a.min[1], b.min[1]), -Z_ALL],
    max: [Math.max(a.max[0], b.max[0]), Math.max(a.max[1], b.max[1]), Z_ALL],
  };
}

/** lower ribs: oblique hoops in the muscle wall, lateral and posterior, descending anteriorly */
function ribs(an: Anatomy): Structure {
  const { hu, rng, body } = an;
  const period = rng.uniform(34, 42);
  const phase = rng.uniform(0, period);
  const thick = rng.uniform(8, 11);
  const lowest = rng.uniform(-50, -30);
  const mid = body.skin + body.fat + body.wall * 0.5;
  const A = an.halfWidth(-Z_ALL);
  return {
    name: "ribs",
    label: 0,
    priority: 58,
    box: box(-A, A, -an.halfDepth(-1), an.halfDepth(1), lowest - 20, Z_ALL),
    sample(x, y, z) {
      // a band 10 mm deep centred in the muscle wall, with marrow in its middle 5 mm
      if (an.outline(x, y, z, mid - 5) >= 1 || an.outline(x, y, z, mid + 5) < 1) return Number.NaN;
      const s = y / an.halfDepth(y); // −1 posterior … 1 anterior
      if (s > 0.55) return Number.NaN; // anterior: cartilage, not drawn
      if (s < -0.85 && Math.abs(x) < 60) return Number.NaN; // the spine and its muscles are there
      if (z < lowest - 40 * s) return Number.NaN; // lateral ribs reach lower than posterior ones
      const m = ((((z + 35 * s - phase) % period) + period) % period) / thick;
      if (m >= 1) return Number.NaN;
      const marrow = m > 0.25 && m < 0.75 && an.outline(x, y, z, mid - 2.5) < 1 && an.outline(x, y, z, mid + 2.5) >= 1;
      return marrow ? hu.boneCancellous * 0.7 : hu.boneCortex;
    },
  };
}
