/** The viewer's pure parts (no browser): error map, colour maps, class names, the inline-safe bundle text. < 1 s. */
import { describe, expect, it } from "vitest";
import { inlineSafe, viewerBundle, viewerScriptTag } from "../src/report-assets.js";
import { errorColormap, errorMap, organColormap } from "../src/viewer/error-map.js";
import { BTCV_CLASS_NAMES, classNames, ERROR_COLORS, ORGAN_COLORS, organColor } from "../src/viewer/organs.js";

describe("error map", () => {
  it("marks missed voxels with the true organ and extra voxels with K + the predicted organ", () => {
    // truth:      0 1 1 2 2 0 3
    // prediction: 0 1 0 1 2 2 3
    const { map, missed, extra } = errorMap([0, 1, 0, 1, 2, 2, 3], [0, 1, 1, 2, 2, 0, 3], 4);
    expect([...map]).toEqual([0, 0, 1, 2, 0, 4 + 2, 0]);
    expect(missed).toEqual([0, 1, 1, 0]);
    expect(extra).toEqual([0, 1, 1, 0]); // organ 1 predicted where truth is 2 counts as extra of 1
    expect(() => errorMap([0], [0, 0], 4)).toThrow(/different grids/);
  });

  it("colours errors blue (missed) / orange (extra), only the chosen organ's when one is selected", () => {
    const names = ["background", "a", "b"];
    const all = errorColormap(names, null);
    expect(all.I).toEqual([0, 1, 2, 4, 5]);
    expect(all.labels).toEqual(["agree", "a missed", "b missed", "a extra", "b extra"]);
    expect([all.R[1], all.G[1], all.B[1]]).toEqual([...ERROR_COLORS.missed]);
    expect([all.R[3], all.G[3], all.B[3]]).toEqual([...ERROR_COLORS.extra]);
    expect(all.A).toEqual([0, 255, 255, 255, 255]);
    expect(errorColormap(names, 2).A).toEqual([0, 0, 255, 0, 255]);
    expect(organColormap(names, organColor, 1).A).toEqual([0, 255, 0]);
  });
});

describe("organ colours and names", () => {
  it("gives the 13 BTCV organs distinct fixed colours and later classes generated ones", () => {
    const hex = ORGAN_COLORS.slice(1).map((c) => c.join(","));
    expect(new Set(hex).size).toBe(13);
    expect(organColor(6)).toEqual([0xcc, 0x66, 0x77]);
    expect(organColor(20)).not.toEqual(organColor(21));
    expect(organColor(20).every((v) => v >= 0 && v <= 255)).toBe(true);
  });

  it("names classes from the pipeline, else BTCV's for 14 classes, else class i", () => {
    expect(classNames(3, { "1": "tumour" })).toEqual(["background", "tumour", "class 2"]);
    expect(classNames(14)).toEqual([...BTCV_CLASS_NAMES]);
    expect(classNames(2, ["bg", "lesion"])).toEqual(["bg", "lesion"]);
  });
});

describe("inlined bundle", () => {
  it("escapes what would end or confuse an inline script element", () => {
    expect(inlineSafe('a="</script>";b="<!--";c="<div>"')).toBe('a="\\x3C/script>";b="\\x3C!--";c="<div>"');
    expect(inlineSafe("x = '</SCRIPT >'")).toBe("x = '\\x3C/SCRIPT >'");
  });

  it("ships the built viewer gzip + base64 in an inert script with a loader", () => {
    const js = viewerBundle();
    expect(js).toContain("VoxelpipeViewer");
    const tag = viewerScriptTag();
    const b64 = tag.match(/type="application\/gzip\+base64">([A-Za-z0-9+/=]+)<\/script>/)![1];
    expect(b64.length).toBeLessThan(js.length); // measured: 1.05 MB of text for 2.27 MB of JavaScript
    expect(tag).toContain('new DecompressionStream("gzip")');
    expect(tag.match(/<\/script>/g)).toHaveLength(2);
  });
});
