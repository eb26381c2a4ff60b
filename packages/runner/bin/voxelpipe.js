#!/usr/bin/env node
// `--version` is answered here, from this package's package.json, before anything imports TensorFlow.js:
// the CLI module graph costs ~0.5 s to load, the version ~50 ms (docs/architecture.md, "Start-up").
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
  const { readFileSync } = await import("node:fs");
  process.stdout.write(`${JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version}\n`);
} else {
  const { main } = await import("../dist/cli/main.js");
  process.exitCode = await main(argv);
}
