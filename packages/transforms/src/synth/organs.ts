import type { Anatomy } from "./anatomy.js";
import { Ellipsoid, Mottle, padBox, rotation, Tube, unionBox, type Vec3 } from "./geometry.js";
import { BtcvLabel } from "./labels.js";
import type { Structure } from "./raster.js";

/**
 * The solid and hollow labelled organs, as deformed ellipsoids and tubes placed against the cavity, each with its
 * own per-case position, size, rotation and intensity. Also returns the landmarks the vessels and the bowel attach
 * to (porta hepatis, splenic hilum, renal hila, pylorus, pancreas centre line).
 *
 * Priorities (higher wins where shapes meet): liver 10, spleen 12, perirenal fat 13, kidneys 14, stomach 16,
 * pancreas 18, gallbladder 20, periadrenal fat 24, adrenals 25, esophagus 30.
 */

export interface Landmarks {
  portaHepatis: Vec3;
  splenicHilum: Vec3;
  /** [right, left] renal hila */
  renalHilum: [Vec3, Vec3];
  pylorus: Vec3;
  /** pancreas centre line: head, neck, body, tail, tip */
  pancreas: Vec3[];
  pancreasRadii: number[];
  /** gastro-oesophageal junction */
  cardia: Vec3;
  /** where the hepatic veins join the inferior vena cava */
  ivcTop: Vec3;
}

const add = (a: Vec3, b: Vec3): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];

/** canonical position of a point given in an ellipsoid's local frame (mm) */
function local(c: Vec3, R: Float64Array, l: Vec3): Vec3 {
  return [
    c[0] + R[0] * l[0] + R[1] * l[1] + R[2] * l[2],
    c[1] + R[3] * l[0] + R[4] * l[1] + R[5] * l[2],
    c[2] + R[6] * l[0] + R[7] * l[1] + R[8] * l[2],
  ];
}

export function organStructures(an: Anatomy): { structures: Structure[]; landmarks: Landmarks } {
  // Long by design: a data table, one entry per organ (shape, HU, placement relative to landmarks) in
  // anatomical order; it reads as a table, and every entry draws from the same seeded stream in this order.
  const { hu, rng } = an;
  const out: Structure[] = [];
  const NaN_ = Number.NaN;

  // ---- liver: a large right lobe tilted so its tip is lateral, and a left lobe across the midline in front
  const right = new Ellipsoid(an.move([75, 0, 62], [6, 6, 8]), an.grow([58, 68, 76], 0.12), an.turn(0, -15, 0, 8));
  const left = new Ellipsoid(an.move([0, 45, 85], [8, 6, 8]), an.grow([50, 25, 38], 0.15), an.turn(-15, 0, 0, 10));
  const liverWarp = an.warp(8, 140);
  const porta = an.move([45, 5, 48], [5, 5, 5]);
  const ivcTop = an.move([18, an.spineY + 58, an.domeR[2] - 12], 3);
  // intrahepatic portal branches and hepatic veins: brighter lines inside the liver label, as on contrast CT
  const hepatic = [
    new Tube([porta, add(porta, an.move([45, -30, 40], 8))], [4.5, 2.5]),
    new Tube([porta, add(porta, an.move([45, 30, 30], 8))], [4.5, 2.5]),
    new Tube([porta, add(porta, an.move([-60, 40, 40], 8))], [4, 2.5]),
    new Tube([an.move([95, 10, 105], 8), ivcTop], [2.5, 5]),
    new Tube([an.move([-15, 45, 100], 8), ivcTop], [2.5, 5]),
  ];
  out.push({
    name: "liver",
    label: BtcvLabel.liver,
    priority: 10,
    box: padBox(unionBox(right.box, left.box), 10),
    sample(x, y, z) {
      if (!an.inAbdomen(x, y, z)) return NaN_;
      liverWarp.apply(x, y, z);
      const w = liverWarp;
      if (right.radius(w.wx, w.wy, w.wz) >= 1 && left.radius(w.wx, w.wy, w.wz) >= 1) return NaN_;
      for (let t = 0; t < hepatic.length; t++) {
        if (hepatic[t].depth(x, y, z) > 0) return t < 3 ? hu.portal - 20 : hu.ivc - 10;
      }
      return hu.liver;
    },
  });

  // ---- spleen: a crescent along the left posterolateral wall, concave toward the hilum
  const splC = an.move([-84, -30, 66], [5, 5, 8]);
  const splR = an.turn(41, 0, -10, 8);
  const spleen = new Ellipsoid(splC, an.grow([21, 46, 50], 0.15), splR);
  const concave = new Ellipsoid(local(splC, splR, [spleen.semi[0] + 6, 0, 0]), [14, 30, 34], splR);
  const splWarp = an.warp(5, 90);
  out.push({
    name: "spleen",
    label: BtcvLabel.spleen,
    priority: 12,
    box: padBox(spleen.box, 6),
    sample(x, y, z) {
      if (!an.inAbdomen(x, y, z)) return NaN_;
      splWarp.apply(x, y, z);
      const w = splWarp;
      return spleen.radius(w.wx, w.wy, w.wz) < 1 && concave.radius(w.wx, w.wy, w.wz) >= 1 ? hu.spleen : NaN_;
    },
  });
  const splenicHilum = local(splC, splR, [spleen.semi[0] + 2, 0, -6]);

  // ---- kidneys: bean shapes beside the spine (the right one lower), cortex brighter than medulla, a fat-filled
  // sinus on the medial side, in a rim of perirenal fat
  const renalHilum: Vec3[] = [];
  const upperPole: Vec3[] = [];
  for (const side of [1, -1]) {
    const c = an.move([side * 74, an.spineY + 8, side > 0 ? -28 : -12], [5, 4, 8]);
    const R = side > 0 ? an.turn(-30, -12, 15, 7) : an.turn(210, -12, -15, 7);
    const k = new Ellipsoid(c, an.grow([26, 24, 54], 0.1), R);
    const sinus = new Ellipsoid(
      local(c, R, [-0.85 * k.semi[0], 0, 0]),
      [0.45 * k.semi[0], 0.35 * k.semi[1], 0.38 * k.semi[2]],
      R,
    );
    const fat = new Ellipsoid(c, [k.semi[0] + 7, k.semi[1] + 7, k.semi[2] + 8], R);
    const kWarp = an.warp(3, 80);
    const label = side > 0 ? BtcvLabel.rightKidney : BtcvLabel.leftKidney;
    const cortex = rng.uniform(5, 8);
    out.push({
      name: side > 0 ? "right perirenal fat" : "left perirenal fat",
      label: 0,
      priority: 13,
      box: fat.box,
      sample: (x, y, z) => (an.inAbdomen(x, y, z) && fat.radius(x, y, z) < 1 ? hu.fat + 10 : NaN_),
    });
    out.push({
      name: side > 0 ? "right kidney" : "left kidney",
      label,
      priority: 14,
      box: padBox(k.box, 4),
      sample(x, y, z) {
        if (!an.inAbdomen(x, y, z)) return NaN_;
        kWarp.apply(x, y, z);
        const r = k.radius(kWarp.wx, kWarp.wy, kWarp.wz);
        if (r >= 1 || sinus.radius(kWarp.wx, kWarp.wy, kWarp.wz) < 1) return NaN_;
        return (1 - r) * k.minSemi < cortex ? hu.kidney : hu.kidney - 15;
      },
    });
    renalHilum.push(local(c, R, [-k.semi[0] * 0.9, 0, 0]));
    upperPole.push(local(c, R, [0, 0, k.semi[2]]));
  }

  // ---- adrenals: thin inverted-V plates above and medial to the upper poles, wrapped in fat
  for (const side of [1, -1]) {
    const pole = upperPole[side > 0 ? 0 : 1];
    const c = an.move(add(pole, [-side * 14, 6, 20]), [3, 3, 4]);
    const spin = (side > 0 ? 10 : -35) + an.jitter(10);
    const spread = rng.uniform(18, 28);
    const semi = an.grow([5, 14, 22], 0.1);
    const limbs = [1, -1].map((s) => {
      const R = rotation(spin, 0, s * spread);
      return new Ellipsoid(local(c, rotation(spin), [0, s * 7, 0]), semi, R);
    });
    const halos = limbs.map(
      (l, i) =>
        new Ellipsoid(l.centre, [semi[0] + 5, semi[1] + 5, semi[2] + 5], rotation(spin, 0, (i ? -1 : 1) * spread)),
    );
    out.push({
      name: side > 0 ? "right periadrenal fat" : "left periadrenal fat",
      label: 0,
      priority: 24,
      box: unionBox(halos[0].box, halos[1].box),
      sample: (x, y, z) =>
        an.inAbdomen(x, y, z) && (halos[0].radius(x, y, z) < 1 || halos[1].radius(x, y, z) < 1) ? hu.fat + 10 : NaN_,
    });
    out.push({
      name: side > 0 ? "right adrenal gland" : "left adrenal gland",
      label: side > 0 ? BtcvLabel.rightAdrenal : BtcvLabel.leftAdrenal,
      priority: 25,
      box: unionBox(limbs[0].box, limbs[1].box),
      sample: (x, y, z) =>
        an.inAbdomen(x, y, z) && (limbs[0].radius(x, y, z) < 1 || limbs[1].radius(x, y, z) < 1) ? hu.adrenal : NaN_,
    });
  }

  // ---- gallbladder: a pear under the liver's anterior edge, fundus forward and down, bile ~10 HU
  const gb = new Ellipsoid(an.move([48, 36, 8], [6, 6, 8]), an.grow([15, 15, 32], 0.2), an.turn(15, 10, 35, 10));
  out.push({
    name: "gallbladder",
    label: BtcvLabel.gallbladder,
    priority: 20,
    box: padBox(gb.box, 6),
    sample(x, y, z) {
      if (!an.inAbdomen(x, y, z)) return NaN_;
      gb.radius(x, y, z);
      const widen = 1 - 0.3 * gb.lz; // wider toward the fundus (local −z)
      const r2 = (gb.lx * gb.lx + gb.ly * gb.ly) / (widen * widen) + gb.lz * gb.lz;
      return r2 < 1 ? hu.gallbladder : NaN_;
    },
  });

  // ---- stomach: a J-shaped tube from the fundus under the left dome to the pylorus, wall enhancing like the
  // parenchyma, lumen with fluid or food and an anterior gas cap (the patient lies supine)
  const zL = an.domeL[2];
  const distend = rng.uniform(0.8, 1.15);
  const stCtrl: Vec3[] = [
    an.move([-52, -2, zL - 32], 5),
    an.move([-62, 22, zL - 60], 6),
    an.move([-45, 42, zL - 95], 6),
    an.move([-8, 50, zL - 105], 5),
    an.move([18, 42, zL - 100], 5),
  ];
  const stomach = new Tube(
    stCtrl,
    [30, 31, 26, 19, 11].map((r) => r * distend),
  );
  const gasLevel = stCtrl[1][1] + rng.uniform(0, 25);
  const food = rng.rand() < 0.4;
  const wallT = rng.uniform(3, 5);
  const foodTexture = new Mottle(() => rng.rand(), rng.uniform(12, 20));
  out.push({
    name: "stomach",
    label: BtcvLabel.stomach,
    priority: 16,
    box: stomach.box,
    sample(x, y, z) {
      if (!an.inAbdomen(x, y, z)) return NaN_;
      const d = stomach.depth(x, y, z);
      if (d <= 0) return NaN_;
      if (d < wallT) return hu.gutWall;
      if (y > gasLevel) return hu.air;
      if (!food) return hu.gutFluid;
      const m = foodTexture.at(x, y, z);
      return m > 1 ? hu.air : hu.gutFluid + 25 + 30 * m;
    },
  });
  const cardia = add(stCtrl[0], [20, 10, 14]);

  // ---- pancreas: head in the duodenal curve, neck in front of the portal confluence, tail to the splenic hilum
  const panc: Vec3[] = [
    an.move([30, 8, 8], 5),
    an.move([10, 14, 22], 4),
    an.move([-25, 8, 32], 5),
    an.move([-58, -6, 44], 5),
    add(splenicHilum, an.move([12, 10, -4], 3)),
  ];
  const pancR = [16, 11, 11, 10, 8].map((r) => r * rng.uniform(0.85, 1.15));
  const pancreas = new Tube(panc, pancR);
  const lobPhase = rng.uniform(0, 6.28);
  out.push({
    name: "pancreas",
    label: BtcvLabel.pancreas,
    priority: 18,
    box: pancreas.box,
    sample(x, y, z) {
      if (!an.inAbdomen(x, y, z) || pancreas.depth(x, y, z) <= 0) return NaN_;
      // lobulated texture, low contrast against the neighbouring parenchyma
      return hu.pancreas + 10 * Math.sin(0.7 * x + lobPhase) * Math.sin(0.6 * y) * Math.sin(0.65 * z + lobPhase);
    },
  });

  // ---- esophagus: through the lower mediastinum, right-anterior of the aorta, then left to the cardia;
  // present only in the upper slices
  const eso = new Tube(
    [
      an.move([-2, an.spineY + 33, 175], [3, 3, 0]),
      an.move([-6, an.spineY + 40, cardia[2] + 35], 3),
      an.move([-18, an.spineY + 52, cardia[2] + 15], 3),
      cardia,
    ],
    [9, 9, 9, 10].map((r) => r * rng.uniform(0.9, 1.15)),
  );
  const esoAir = rng.rand() < 0.4;
  out.push({
    name: "esophagus",
    label: BtcvLabel.esophagus,
    priority: 30,
    box: eso.box,
    sample(x, y, z) {
      if (!an.inCavity(x, y, z) || eso.depth(x, y, z) <= 0) return NaN_;
      return esoAir && eso.dist < 2.5 ? hu.air : hu.muscle - 5;
    },
  });

  return {
    structures: out,
    landmarks: {
      portaHepatis: porta,
      splenicHilum,
      renalHilum: [renalHilum[0], renalHilum[1]],
      pylorus: stCtrl[4],
      pancreas: panc,
      pancreasRadii: pancR,
      cardia,
      ivcTop,
    },
  };
}
