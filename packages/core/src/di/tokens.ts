import type { Logger } from "../logger.js";
import { RngStreams } from "../rng/streams.js";
import type { ArtifactStore } from "../sdk/context.js";
import type { Registries } from "../sdk/registry.js";
import type { ComponentResolver, ConfigSource } from "./components.js";
import { Container, token } from "./container.js";

/** What a run's containers hold, by token (see container.ts for which container holds which). */
export const Services = {
  // run scope
  logger: token<Logger>("Logger"),
  rng: token<RngStreams>("RngStreams"),
  backend: token<string>("Backend"),
  registries: token<Registries>("Registries"),
  seed: token<number>("Seed"),
  /** the config components are built from (the compiled tree on the main thread, the data a worker got) */
  config: token<ConfigSource>("ConfigSource"),
  // stage scope
  artifacts: token<ArtifactStore>("ArtifactStore"),
  /** outputs of the stages that ran: `@stages.<s>.outputs.<k>` */
  stageOutputs: token<(stage: string, key: string) => string | undefined>("StageOutputs"),
  /** builds the stage's component entries (lazily, one instance per config path, in this container) */
  components: token<ComponentResolver>("ComponentResolver"),
} as const;

/** The root container of a run: the services every stage and component of it shares. */
export function runContainer(o: {
  registries: Registries;
  logger: Logger;
  seed: number;
  backend: string;
  config: ConfigSource;
}): Container {
  return Container.root()
    .value(Services.logger, o.logger)
    .value(Services.registries, o.registries)
    .value(Services.seed, o.seed)
    .value(Services.rng, new RngStreams(o.seed))
    .value(Services.backend, o.backend)
    .value(Services.config, o.config);
}
