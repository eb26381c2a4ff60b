import type { Command } from "commander";
import { addLoadFlags, collect, intArg } from "./args.js";
import type { Compile, ExportWebOptions } from "./export-web-actions.js";
import type { CliIO } from "./io.js";

/** the site builder and its assets load only when `export web` or `serve` runs */
const actions = () => import("./export-web-actions.js");

/** `voxelpipe export web` and `voxelpipe serve` */
export function registerExportWeb(program: Command, io: CliIO, compile: Compile): void {
  const exp = program.command("export").description("export a trained model for use outside voxelpipe");
  addLoadFlags(exp.command("web"))
    .description(
      "write a static site (index.html, app, weights, manifest.json) that segments NIfTI images in the browser with the pipeline's preprocessing, sliding window and argmax",
    )
    .requiredOption(
      "--pipeline <file>",
      "pipeline YAML whose infer (or last train) stage defines model, preprocessing and inferer",
    )
    .requiredOption(
      "--checkpoint <file>",
      "weights (.safetensors), e.g. runs/<name>/<stage>/<run>/checkpoints/best.safetensors",
    )
    .option(
      "--checkpoint-format <format>",
      "voxelpipe or monai (a MONAI/PyTorch state dict as safetensors)",
      "voxelpipe",
    )
    .requiredOption("--out <dir>", "the site folder (new, empty, or an earlier export, which is replaced)")
    .option("--stage <name>", "the stage to take model and preprocessing from (as `voxelpipe infer --stage`)")
    .option("--labels <file>", "class names: JSON/YAML { value: name }, a list, or a Decathlon dataset.json")
    .option("--set <path=value>", "override a config value (YAML value); repeatable", collect, [])
    .action(async (o: ExportWebOptions) => (await actions()).exportWeb(o, io, compile));

  program
    .command("serve")
    .description("serve an exported site (or any static folder) on http://127.0.0.1")
    .argument("<dir>", "the folder `voxelpipe export web` wrote")
    .option("--port <n>", "port (0: any free one)", intArg("--port", 0, 65535), 8080)
    .action(async (dir: string, o: { port: number }) => (await actions()).serve(dir, o, io));
}
