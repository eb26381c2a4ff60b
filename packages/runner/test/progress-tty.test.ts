/**
 * Log lines and the progress bar on a real TTY (util-linux `script` gives the child a pseudo-terminal): every
 * line must end up on a line of its own, none under or inside the bar, and nothing logged after the bar's
 * final line may print before it.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { allOf, builtOrSkip, toolOrSkip } from "../../../test-utils/gates.js";

const dist = fileURLToPath(new URL("../dist/run/progress.js", import.meta.url));
// util-linux `script` gives the child a pseudo-terminal; the child imports the built progress module
const need = allOf(toolOrSkip("script", ["/usr/bin/script"], "bsdutils"), builtOrSkip(dist));

/** The screen a terminal shows after `out`: enough of VT100 for cli-progress (CR, LF, CSI n G/A/B/K/J). */
function screen(out: string): string[] {
  const lines: string[] = [""];
  let row = 0;
  let col = 0;
  const put = (ch: string) => {
    const l = lines[row].padEnd(col, " ");
    lines[row] = l.slice(0, col) + ch + l.slice(col + 1);
    col += 1;
  };
  for (let i = 0; i < out.length; i++) {
    const c = out[i];
    if (c === "\r") col = 0;
    else if (c === "\n") {
      row += 1;
      col = 0;
      if (lines.length <= row) lines.push("");
    } else if (c === "\x1b") {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: parsing terminal escape sequences
      const m = /^\x1b\[(\??)(\d*)([A-Za-z])/.exec(out.slice(i));
      if (!m) continue;
      i += m[0].length - 1;
      const n = Number(m[2] || "0");
      if (m[1]) continue; // ?25l / ?25h: cursor visibility
      if (m[3] === "G") col = Math.max(0, (n || 1) - 1);
      else if (m[3] === "A") row = Math.max(0, row - (n || 1));
      else if (m[3] === "B") row += n || 1;
      else if (m[3] === "K") lines[row] = n === 2 ? "" : lines[row].slice(0, col);
      else if (m[3] === "J") lines.splice(row + 1, lines.length, ...[]);
      while (lines.length <= row) lines.push("");
    } else put(c);
  }
  return lines.map((l) => l.trimEnd()).filter((l) => l.length > 0);
}

describe.skipIf(!need.ok)(need.title("progress bar and log lines on a TTY"), () => {
  it("prints every log line whole, above the bar, and the lines after the bar below its final state", () => {
    const child = `
      const { Progress, writeStderrLine } = await import(${JSON.stringify(dist)});
      const log = { info: writeStderrLine, warn: writeStderrLine, error: writeStderrLine, debug() {}, child() { return log; } };
      const p = new Progress(log, 4, { unit: "it", fields: ["loss"], tty: true });
      for (let i = 0; i < 4; i++) {
        p.tick({ loss: String(i) });
        writeStderrLine("validation line " + i);
        await new Promise((r) => setTimeout(r, 150));
      }
      p.done();
      writeStderrLine("dice table");`;
    const file = join(mkdtempSync(join(tmpdir(), "vp-tty-")), "child.mjs");
    writeFileSync(file, child);
    const raw = execFileSync("script", ["-qfec", `node ${file} 1>&2`, "/dev/null"], {
      encoding: "utf8",
      env: { ...process.env, CI: "" },
    });
    const shown = screen(raw);
    const logs = shown.filter((l) => l.includes("validation line"));
    expect(logs).toEqual([0, 1, 2, 3].map((i) => `validation line ${i}`));
    const bar = shown.findIndex((l) => l.includes("4/4"));
    expect(bar, shown.join("\n")).toBeGreaterThan(shown.indexOf("validation line 3"));
    expect(shown.at(-1)).toBe("dice table");
    expect(shown.filter((l) => /\d\/4/.test(l))).toHaveLength(1);
  });
});
