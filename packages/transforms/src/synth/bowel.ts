import type { Anatomy } from "./anatomy.js";
import { Mottle, Tube, type Vec3 } from "./geometry.js";
import type { Landmarks } from "./organs.js";
import type { Structure } from "./raster.js";

/**
 * Unlabelled gut that fills the rest of the abdomen: duodenum (17, hugging the pancreatic head), colon (7) and
 * small-bowel loops (6). Collapsed loops have soft-tissue intensity like the parenchymal organs; others hold
 * fluid, faeces or gas. Organs win where they meet (higher priority), so loops fill the space around them.
 */

function gut(
  an: Anatomy,
  name: string,
  priority: number,
  tube: Tube,
  content: "fluid" | "collapsed" | "faeces",
  gas: number,
): Structure {
  const { hu } = an;
  const wall = 2.5;
  const mottle = new Mottle(() => an.rng.rand(), an.rng.uniform(10, 18));
  return {
    name,
    label: 0,
    priority,
    box: tube.box,
    sample(x, y, z) {
      if (!an.inAbdomen(x, y, z)) return Number.NaN;
      const d = tube.depth(x, y, z);
      if (d <= 0) return Number.NaN;
      if (content === "collapsed") return hu.gutWall - 5;
      if (d < wall) return hu.gutWall;
      // gas collects on the anterior side of the lumen (supine patient)
      if (y > gas) return hu.air;
      if (content === "fluid") return hu.gutFluid;
      const m = mottle.at(x, y, z);
      return m > 0.45 ? hu.air : -20 + 100 * m;
    },
  };
}

export function bowelStructures(an: Anatomy, lm: Landmarks): Structure[] {
  const { rng } = an;
  const out: Structure[] = [];
  const py = lm.pylorus;
  const head = lm.pancreas[0];
  const dR = rng.uniform(9, 12);
  // duodenal C-loop around the pancreatic head
  const duo = new Tube(
    [
      py,
      [py[0] + 22, py[1] - 10, py[2] + 4],
      [head[0] + 24, head[1] + 2, head[2] - 2],
      [head[0] + 22, head[1] - 4, head[2] - 28],
      [head[0], head[1] - 8, head[2] - 46],
      [head[0] - 30, head[1] - 6, head[2] - 48],
      [head[0] - 52, head[1], head[2] - 36],
      [head[0] - 60, head[1] + 4, head[2] - 20],
    ],
    [0.8, 1, 1, 1, 1, 1, 1, 1].map((f) => f * dR),
  );
  out.push(gut(an, "duodenum", 17, duo, rng.rand() < 0.5 ? "fluid" : "collapsed", py[1] + rng.uniform(5, 30)));

  // colon frame: ascending, hepatic flexure, transverse, splenic flexure, descending
  const cR = rng.uniform(17, 24);
  const colon = new Tube(
    [
      an.move([92, 5, -150], 5),
      an.move([96, 10, -70], 6),
      an.move([88, 25, -15], 6),
      an.move([45, 55, -30], 8),
      an.move([0, 60, -45], 8),
      an.move([-50, 52, -25], 8),
      an.move([-90, 20, 8], 6),
      an.move([-98, 5, -60], 6),
      an.move([-94, 0, -150], 5),
    ],
    [1, 1, 0.95, 0.9, 0.85, 0.85, 0.9, 0.9, 0.85].map((f) => f * cR),
    6,
  );
  out.push(gut(an, "colon", 7, colon, "faeces", rng.uniform(20, 60)));

  // small-bowel loops: random walks in the lower and middle abdomen
  const loops = 8;
  for (let l = 0; l < loops; l++) {
    let p: Vec3 = [rng.uniform(-70, 70), rng.uniform(0, 60), rng.uniform(-130, -20)];
    const pts: Vec3[] = [p];
    for (let s = 0; s < 5; s++) {
      p = [
        Math.max(-85, Math.min(85, p[0] + rng.uniform(-35, 35))),
        Math.max(-20, Math.min(70, p[1] + rng.uniform(-25, 25))),
        Math.max(-150, Math.min(0, p[2] + rng.uniform(-30, 30))),
      ];
      pts.push(p);
    }
    const r = rng.uniform(8, 13);
    const kind = rng.rand();
    const content = kind < 0.5 ? "collapsed" : "fluid";
    const gas = kind > 0.85 ? rng.uniform(0, 40) : 1e9;
    out.push(
      gut(
        an,
        `small bowel ${l}`,
        6,
        new Tube(
          pts,
          pts.map(() => r),
          6,
        ),
        content,
        gas,
      ),
    );
  }
  return out;
}
