// `npm run bench`: every benchmark, one after the other (they would only slow each other down).
// Each can also run alone: node bench/<name>.mjs --help-less flags are listed in bench/README.md.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const only = process.argv.slice(2);
const benches = [
  ["engine", ["--quick"]],
  ["preprocess", []],
  ["hd95", []],
  ["unetr", ["--configs", "small"]],
  ["realsize", []],
  // the adapter's figures; on a software adapter (SwiftShader) a correctness smoke only
  ["webgpu", []],
];
for (const [name, args] of benches) {
  if (only.length && !only.includes(name)) continue;
  console.log(`\n=== bench/${name}.mjs ${args.join(" ")}`);
  const r = spawnSync(process.execPath, [fileURLToPath(new URL(`./${name}.mjs`, import.meta.url)), ...args], {
    stdio: "inherit",
  });
  if (r.status !== 0) console.log(`bench/${name}.mjs exited with ${r.status}`);
}
