import { Codes, type ComponentContext, defineModel, isVoxelpipeError, VoxelpipeError } from "@voxelpipe/core";
import type { NetworkBase } from "../nets/common.js";
import { UNETR, unetrArgs } from "../nets/unetr.js";
import { ViT, vitArgs } from "../nets/vit.js";
import { ViTAutoEnc, vitAutoEncArgs } from "../nets/vitautoenc.js";
import { applyInit, type InitSpec, initSchema } from "../weights/init.js";

const initArg = initSchema
  .optional()
  .describe("initial weights: { from, format, include, exclude, rename, strict }; omitted = seeded random init");

/** Build a network with the component's RandomState, then load `init` if given; config errors name the entry. */
async function build<N extends NetworkBase>(
  make: () => N,
  init: InitSpec | undefined,
  ctx: ComponentContext,
): Promise<N> {
  let net: N;
  try {
    net = make();
  } catch (e) {
    if (isVoxelpipeError(e)) throw e;
    throw new VoxelpipeError({ code: Codes.invalidValue, message: (e as Error).message, path: ctx.path });
  }
  if (init) {
    try {
      await applyInit(net, init, ctx.logger, { baseDir: ctx.baseDir });
    } catch (e) {
      net.dispose();
      throw e;
    }
  }
  return net;
}

export const ViTDef = defineModel({
  name: "ViT",
  description: "MONAI ViT encoder (patch embedding + transformer blocks + LayerNorm), channel-last",
  args: vitArgs.extend({ init: initArg }),
  create: ({ init, ...args }, ctx) => build(() => new ViT(args, ctx.rng()), init, ctx),
});

export const ViTAutoEncDef = defineModel({
  name: "ViTAutoEnc",
  description: "MONAI ViTAutoEnc: ViT encoder + two 4×4×4 transposed convs (SSL reconstruction network)",
  args: vitAutoEncArgs.extend({ init: initArg }),
  create: ({ init, ...args }, ctx) => build(() => new ViTAutoEnc(args, ctx.rng()), init, ctx),
});

export const UNETRDef = defineModel({
  name: "UNETR",
  description: "MONAI UNETR: ViT encoder with skips from blocks 3/6/9 and a conv decoder, channel-last logits",
  args: unetrArgs.extend({ init: initArg }),
  create: ({ init, ...args }, ctx) => build(() => new UNETR(args, ctx.rng()), init, ctx),
});
