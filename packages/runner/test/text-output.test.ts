/** The runner's one CSV writer and one text table (src/text/). */
import { describe, expect, it } from "vitest";
import { parseCsv } from "../../../test-utils/csv.js";
import type { EvaluationResult } from "../src/evaluate/evaluation-types.js";
import { evaluationCsv, evaluationTables } from "../src/evaluate/report.js";
import { toCsv } from "../src/text/csv.js";
import { textTable } from "../src/text/table.js";

const AWKWARD = ['case 1, left "L"', "plain", 'say "hi"', "two\nlines", ",", '"', ""];

describe("toCsv", () => {
  it("quotes commas, quotes and line breaks so every field reads back as itself", () => {
    const text = toCsv(["name", "value"], [...AWKWARD.map((s, i) => [s, i])]);
    expect(parseCsv(text)).toEqual([["name", "value"], ...AWKWARD.map((s, i) => [s, String(i)])]);
    // quoting only where needed: plain fields stay bare
    expect(text.split("\n")[2]).toBe("plain,1");
    expect(text.split("\n")[1]).toBe('"case 1, left ""L""",0');
    expect(text.endsWith("\n")).toBe(true);
  });

  it("writes null/undefined as empty, NaN as NaN, booleans as words", () => {
    expect(toCsv(["a", "b", "c", "d"], [[null, undefined, Number.NaN, true]])).toBe("a,b,c,d\n,,NaN,true\n");
  });
});

describe("evaluation.csv", () => {
  it("a case and an organ named with a comma and a quote round-trip", () => {
    const organs = ['liver, left "lobe"', "spleen"];
    const r: EvaluationResult = {
      cases: [
        {
          pred: '/p/a, "b"_seg.nii.gz',
          label: '/l/a, "b".nii.gz',
          metrics: { dice: { [organs[0]]: 0.5, spleen: null } },
        },
      ],
      mean: { dice: { [organs[0]]: 0.5, spleen: null, mean: 0.5 } },
      organs,
      counted: { dice: 1 },
    };
    const rows = parseCsv(evaluationCsv(r));
    expect(rows).toEqual([
      ["case", "pred", "label", "organ", "dice"],
      ['a, "b"', 'a, "b"_seg.nii.gz', 'a, "b".nii.gz', organs[0], "0.5"],
      ['a, "b"', 'a, "b"_seg.nii.gz', 'a, "b".nii.gz', "spleen", ""],
      ["mean", "", "", organs[0], "0.5"],
      ["mean", "", "", "spleen", ""],
      ["mean", "", "", "mean", "0.5"],
    ]);
    // and the text table lines the columns up with the awkward names in them
    const table = evaluationTables(r).split("\n");
    expect(table[0]).toBe("dice");
    expect(table[1]).toMatch(/^organ\s+a, "b"\s+mean$/);
  });
});

describe("textTable", () => {
  const rows = [
    ["liver", "0.95", "12.5"],
    ["left adrenal gland", "0.5", "-"],
  ];

  it("numbers: first column left, the others right; a rule under the header", () => {
    expect(textTable(["organ", "dice", "hd95"], rows, { align: "numbers", rule: true }).split("\n")).toEqual([
      "organ               dice  hd95",
      "------------------  ----  ----",
      "liver               0.95  12.5",
      "left adrenal gland   0.5     -",
    ]);
  });

  it("text: every column left, trailing spaces trimmed, missing cells empty", () => {
    expect(
      textTable(
        ["name", "type", "doc"],
        [
          ["a", "number"],
          ["long_name", undefined, "x"],
        ],
      ).split("\n"),
    ).toEqual(["name       type    doc", "a          number", "long_name          x"]);
  });
});
