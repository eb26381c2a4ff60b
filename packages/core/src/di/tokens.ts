import type { Logger } from "../logger.js";
import type { RngStreams } from "../rng/streams.js";
import type { ArtifactStore } from "../sdk/context.js";
import type { Registries } from "../sdk/registry.js";
import { token } from "./container.js";

/** Services every run has. */
export const Services = {
  logger: token<Logger>("Logger"),
  rng: token<RngStreams>("RngStreams"),
  backend: token<string>("Backend"),
  registries: token<Registries>("Registries"),
  artifacts: token<ArtifactStore>("ArtifactStore"),
  seed: token<number>("Seed"),
} as const;
