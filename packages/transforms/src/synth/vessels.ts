import type { Anatomy } from "./anatomy.js";
import { Tube, type Vec3 } from "./geometry.js";
import { BtcvLabel } from "./labels.js";
import type { Landmarks } from "./organs.js";
import type { Structure } from "./raster.js";

/**
 * Contrast-filled vessels. Labelled: aorta (36), inferior vena cava (34), portal + splenic vein (32). Unlabelled
 * look-alikes with the same intensities, so the label depends on anatomy, not brightness: superior mesenteric
 * artery and vein and the renal veins (31).
 */

/** x, y of a polyline of control points at height z (linear between the points, clamped at the ends) */
function atZ(points: Vec3[], z: number): Vec3 {
  for (let i = 0; i < points.length - 1; i++) {
    const [a, b] = [points[i], points[i + 1]];
    if ((z <= a[2] && z >= b[2]) || (z >= a[2] && z <= b[2])) {
      const u = a[2] === b[2] ? 0 : (z - a[2]) / (b[2] - a[2]);
      return [a[0] + u * (b[0] - a[0]), a[1] + u * (b[1] - a[1]), z];
    }
  }
  const end =
    Math.abs(z - points[0][2]) < Math.abs(z - points[points.length - 1][2]) ? points[0] : points[points.length - 1];
  return [end[0], end[1], z];
}

function tubeStructure(
  an: Anatomy,
  name: string,
  label: number,
  priority: number,
  tube: Tube,
  hu: number,
  inside: (x: number, y: number, z: number) => boolean = (x, y, z) => an.inCavity(x, y, z),
): Structure {
  return {
    name,
    label,
    priority,
    box: tube.box,
    sample: (x, y, z) => (inside(x, y, z) && tube.depth(x, y, z) > 0 ? hu : Number.NaN),
  };
}

export function vesselStructures(an: Anatomy, lm: Landmarks): Structure[] {
  // Long by design: a data table of the vessels (centre lines, radii, HU) in drawing order; one seeded stream
  // runs through it in this order.
  const { hu, rng } = an;
  const yS = an.spineY;
  const ax = -12 + an.jitter(3);
  const ay = yS + 30 + an.jitter(2);
  // descending aorta: posterior-left in the chest, then on the front-left of the vertebral bodies
  const aortaPts: Vec3[] = [
    [ax - 10, yS + 18, 180],
    [ax - 4, yS + 26, 90],
    [ax, ay, 20],
    [ax + 2, ay + 1, -60],
    [ax + 4, ay - 1, -180],
  ];
  const aortaR = rng.uniform(10, 13);
  const aorta = new Tube(
    aortaPts,
    [1.05, 1, 0.95, 0.9, 0.85].map((f) => f * aortaR),
  );
  // IVC: right of the aorta low down, then forward into the liver up to the hepatic-vein confluence
  const ivcPts: Vec3[] = [
    [24 + an.jitter(3), yS + 30, -180],
    [22 + an.jitter(3), yS + 32 + an.jitter(2), -60],
    [24 + an.jitter(3), yS + 40 + an.jitter(3), 20],
    [22 + an.jitter(3), yS + 50 + an.jitter(3), 70],
    lm.ivcTop,
  ];
  const ivcR = rng.uniform(10, 13);
  const ivc = new Tube(
    ivcPts,
    [1, 1, 1, 1.1, 1.2].map((f) => f * ivcR),
  );
  // portal venous system: splenic vein behind the pancreas to the confluence behind the neck, then the portal
  // vein up and right to the porta hepatis
  const p = lm.pancreas;
  const pr = lm.pancreasRadii;
  const behind = (i: number, extra: number): Vec3 => [p[i][0], p[i][1] - pr[i] - extra, p[i][2]];
  const confluence: Vec3 = [p[1][0] - 2, p[1][1] - pr[1] - 3, p[1][2] - 2];
  const portaMid: Vec3 = [
    (confluence[0] + lm.portaHepatis[0]) / 2 + an.jitter(3),
    (confluence[1] + lm.portaHepatis[1]) / 2 + an.jitter(3),
    (confluence[2] + lm.portaHepatis[2]) / 2 + 2,
  ];
  const portal = new Tube(
    [lm.splenicHilum, behind(3, 2), behind(2, 3), confluence, portaMid, lm.portaHepatis],
    [5, 5, 5.5, 7, 7.5, 7.5].map((r) => r * rng.uniform(0.9, 1.15)),
  );
  // SMV descends from the confluence in front of the uncinate process; SMA leaves the aorta below the celiac
  // level and runs to its left
  const smv = new Tube(
    [
      confluence,
      [confluence[0] + 2, confluence[1] + 6, confluence[2] - 25],
      [confluence[0] + 4, confluence[1] + 18, -60],
      [confluence[0] + 5, confluence[1] + 28, -180],
    ],
    [5.5, 5, 4.5, 4],
  );
  const smaZ = confluence[2] - 12;
  const smaO = atZ(aortaPts, smaZ);
  const sma = new Tube(
    [
      [smaO[0], smaO[1] + 6, smaZ],
      [smaO[0] + 2, smaO[1] + 20, smaZ - 15],
      [smaO[0] + 4, smaO[1] + 30, -60],
      [smaO[0] + 6, smaO[1] + 40, -180],
    ],
    [4, 3.5, 3, 3],
  );
  // renal veins: the left one crosses between the SMA and the aorta
  const [hr, hl] = lm.renalHilum;
  const rrv = new Tube([hr, atZ(ivcPts, hr[2] + 5)], [5, 6]);
  const lz = hl[2];
  const lrv = new Tube(
    [hl, [atZ(aortaPts, lz)[0], atZ(aortaPts, lz)[1] + aortaR + 6, lz + 2], atZ(ivcPts, lz + 4)],
    [5, 5, 6],
  );

  return [
    tubeStructure(an, "aorta", BtcvLabel.aorta, 36, aorta, hu.aorta, () => true),
    tubeStructure(an, "inferior vena cava", BtcvLabel.ivc, 34, ivc, hu.ivc, () => true),
    tubeStructure(an, "portal and splenic vein", BtcvLabel.portalVein, 32, portal, hu.portal),
    tubeStructure(an, "superior mesenteric vein", 0, 31, smv, hu.portal),
    tubeStructure(an, "superior mesenteric artery", 0, 31, sma, hu.aorta),
    tubeStructure(an, "right renal vein", 0, 31, rrv, hu.ivc),
    tubeStructure(an, "left renal vein", 0, 31, lrv, hu.ivc),
  ];
}
