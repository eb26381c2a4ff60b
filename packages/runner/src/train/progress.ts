import type { Logger } from "@voxelpipe/core";
import cliProgress from "cli-progress";

/** A progress bar with loss, lr, it/s and ETA on a TTY; plain periodic lines otherwise. */
export class Progress {
  private readonly bar?: cliProgress.SingleBar;
  private readonly start = Date.now();
  private lastLine = 0;
  private done_: number;

  constructor(
    private readonly logger: Logger,
    private readonly total: number,
    private readonly initial = 0,
    tty = process.stderr.isTTY === true && !process.env.CI,
  ) {
    this.done_ = initial;
    if (tty) {
      this.bar = new cliProgress.SingleBar(
        {
          format: "  {bar} {value}/{total} | loss {loss} | lr {lr} | {speed} it/s | ETA {eta_formatted}",
          stream: process.stderr,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, initial, { loss: "-", lr: "-", speed: "-" });
    }
  }

  tick(loss: number | undefined, lr: number): void {
    this.done_ += 1;
    const secs = (Date.now() - this.start) / 1000;
    const speed = (this.done_ - this.initial) / Math.max(secs, 1e-9);
    const fmt = {
      loss: loss === undefined ? "-" : loss.toPrecision(4),
      lr: lr.toExponential(2),
      speed: speed.toFixed(2),
    };
    if (this.bar) {
      this.bar.update(this.done_, fmt);
      return;
    }
    if (Date.now() - this.lastLine > 10_000 || this.done_ === this.total) {
      this.lastLine = Date.now();
      const eta = speed > 0 ? (this.total - this.done_) / speed : 0;
      this.logger.info(
        `iter ${this.done_}/${this.total} loss ${fmt.loss} lr ${fmt.lr} ${fmt.speed} it/s ETA ${eta.toFixed(0)}s`,
      );
    }
  }

  done(): void {
    this.bar?.stop();
  }
}
