import type { Logger } from "@voxelpipe/core";
import cliProgress from "cli-progress";

/** The bar on the terminal now, if any: log lines go above it (see writeStderrLine). */
let active: cliProgress.MultiBar | undefined;

/**
 * Write one line to stderr without tearing a progress bar: while a bar is drawn the line is queued above it
 * and printed at the bar's next redraw (cli-progress's MultiBar.log), so a log line never vanishes under the
 * bar and nothing prints after its final line.
 */
export function writeStderrLine(line: string): void {
  const text = line.endsWith("\n") ? line : `${line}\n`;
  if (active) {
    active.log(text);
    active.update();
  } else process.stderr.write(text);
}

/**
 * A progress bar on a TTY (the given fields, rate and ETA), plain periodic lines otherwise (CI, logs).
 * Training shows loss and lr per iteration; inference the case per volume.
 */
export class Progress {
  private readonly multi?: cliProgress.MultiBar;
  private readonly bar?: cliProgress.SingleBar;
  private readonly start = Date.now();
  private lastLine = 0;
  private count: number;

  constructor(
    private readonly logger: Logger,
    private readonly total: number,
    private readonly o: { unit: string; fields: string[]; initial?: number; tty?: boolean },
  ) {
    this.count = o.initial ?? 0;
    if (o.tty ?? (process.stderr.isTTY === true && !process.env.CI)) {
      const fields = o.fields.map((f) => `${f} {${f}}`).join(" | ");
      this.multi = new cliProgress.MultiBar(
        {
          format: `  {bar} {value}/{total} | ${fields} | {speed} ${o.unit}/s | ETA {eta_formatted}`,
          stream: process.stderr,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar = this.multi.create(total, this.count, {
        speed: "-",
        ...Object.fromEntries(o.fields.map((f) => [f, "-"])),
      });
      active = this.multi;
    }
  }

  tick(values: Record<string, string>): void {
    this.count += 1;
    const secs = (Date.now() - this.start) / 1000;
    const speed = (this.count - (this.o.initial ?? 0)) / Math.max(secs, 1e-9);
    if (this.bar) {
      this.bar.update(this.count, { ...values, speed: speed.toFixed(2) });
      return;
    }
    if (Date.now() - this.lastLine > 10_000 || this.count === this.total) {
      this.lastLine = Date.now();
      const eta = speed > 0 ? (this.total - this.count) / speed : 0;
      const fields = this.o.fields.map((f) => `${f} ${values[f] ?? "-"}`).join(" ");
      this.logger.info(
        `${this.o.unit} ${this.count}/${this.total} ${fields} ${speed.toFixed(2)} ${this.o.unit}/s ETA ${eta.toFixed(0)}s`,
      );
    }
  }

  done(): void {
    if (!this.multi) return;
    this.multi.update(); // flush queued log lines before the final bar line
    this.multi.stop();
    if (active === this.multi) active = undefined;
  }
}
