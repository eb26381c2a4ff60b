import type { Logger } from "../logger.js";
import { RngStreams } from "../rng/streams.js";
import type { ArtifactStore } from "../sdk/context.js";
import type { Registries } from "../sdk/registry.js";
import { Container, token } from "./container.js";

/** Services every run has. */
export const Services = {
  logger: token<Logger>("Logger"),
  rng: token<RngStreams>("RngStreams"),
  backend: token<string>("Backend"),
  registries: token<Registries>("Registries"),
  artifacts: token<ArtifactStore>("ArtifactStore"),
  seed: token<number>("Seed"),
} as const;

/** The root container of a run: the services every stage and component of it shares. */
export function runContainer(o: { registries: Registries; logger: Logger; seed: number; backend: string }): Container {
  return Container.root()
    .value(Services.logger, o.logger)
    .value(Services.registries, o.registries)
    .value(Services.seed, o.seed)
    .value(Services.rng, new RngStreams(o.seed))
    .value(Services.backend, o.backend);
}
