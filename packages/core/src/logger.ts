/** Minimal structured logger; the runner decides where lines go (TTY, file, silence in tests). */
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** a logger that prefixes its lines, e.g. with the stage name */
  child(prefix: string): Logger;
}

const order: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function createLogger(
  opts: { level?: LogLevel; write?: (level: LogLevel, line: string) => void; prefix?: string } = {},
): Logger {
  const level = opts.level ?? "info";
  const write =
    opts.write ??
    ((lv: LogLevel, line: string) => {
      (lv === "error" || lv === "warn" ? process.stderr : process.stderr).write(`${line}\n`);
    });
  const prefix = opts.prefix ? `[${opts.prefix}] ` : "";
  const emit = (lv: LogLevel, msg: string) => {
    if (order[lv] >= order[level])
      write(lv, lv === "info" || lv === "debug" ? `${prefix}${msg}` : `${prefix}${lv}: ${msg}`);
  };
  return {
    debug: (m) => emit("debug", m),
    info: (m) => emit("info", m),
    warn: (m) => emit("warn", m),
    error: (m) => emit("error", m),
    child: (p) => createLogger({ level, write, prefix: opts.prefix ? `${opts.prefix}/${p}` : p }),
  };
}

/** A logger that records lines in memory (tests) */
export function createMemoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const l = createLogger({ level: "debug", write: (_lv, line) => lines.push(line) });
  return Object.assign(l, { lines });
}
