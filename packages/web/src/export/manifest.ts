/**
 * manifest.json of an exported site: what `voxelpipe export web` resolved from the pipeline (model,
 * the deterministic preprocessing prefix, the inferer, class names) and the weights file. The Node
 * export writes it with this schema and the browser app reads it with the same one.
 */
import { Codes, VoxelpipeError, z } from "@voxelpipe/core";

export const MANIFEST_FORMAT = "voxelpipe-web/1";
export const MANIFEST_FILE = "manifest.json";
export const WEIGHTS_FILE = "weights.safetensors";

/** a component entry as in a pipeline (`{ type: Name, ...args }`), references already resolved */
const entry = z.looseObject({ type: z.string().min(1) });
export type ComponentEntry = z.infer<typeof entry>;

export const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  /** pipeline name, and the stage the model and preprocessing come from */
  name: z.string(),
  stage: z.string(),
  seed: z.number().int(),
  /** file name of the checkpoint the weights come from (for display) */
  checkpoint: z.string(),
  model: entry,
  /** the deterministic prefix of the stage's validation chain, dictionary keys allowed to be missing */
  transforms: z.array(entry),
  /** types of the transforms left out (the first random one and all after it) */
  dropped: z.array(z.string()),
  inferer: entry.optional(),
  image_key: z.string(),
  /** class names, index = label value (0: background) */
  classes: z.array(z.string()).min(2),
  weights: z.object({
    file: z.string(),
    bytes: z.number().int().positive(),
    parameters: z.number().int().positive(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  }),
  versions: z.record(z.string(), z.string()),
});
export type Manifest = z.infer<typeof manifestSchema>;

/** a manifest parsed and checked (VP297 names what is wrong) */
export function parseManifest(json: unknown, source = MANIFEST_FILE): Manifest {
  const r = manifestSchema.safeParse(json);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new VoxelpipeError({
    code: Codes.webManifest,
    message: `${source}: ${issue.path.join(".") || "(top level)"}: ${issue.message}`,
    expected: `a ${MANIFEST_FORMAT} manifest`,
    hint: "re-export the site with `voxelpipe export web` (a site from another voxelpipe version, or edited by hand?)",
  });
}
