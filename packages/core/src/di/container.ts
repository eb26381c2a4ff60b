import "reflect-metadata";
import { type DependencyContainer, container as globalContainer, instanceCachingFactory } from "tsyringe";

/**
 * The DI facade over tsyringe (plugins never import it: they receive a ComponentContext). What
 * lives where:
 * - the **run** container (`runContainer`, tokens.ts): logger, registries, seed, RNG streams,
 *   backend and the compiled config the components are built from;
 * - a **stage** child container (`stageContainer`, components.ts): the stage's logger, artifact
 *   store, the outputs of upstream stages, the `ComponentResolver` (a lazy singleton resolved by
 *   the `Services.components` token) and every component the stage builds, each registered under
 *   its config path, so one path is one instance for the stage's lifetime.
 * A child sees its parent's registrations and may override them. tsyringe's decorators are not
 * used (components are made by plugin factories, not classes), so `reflect-metadata` is loaded only
 * because tsyringe requires it at import.
 */
export type Token<T> = symbol & { __type?: T };

export function token<T>(description: string): Token<T> {
  return Symbol(description) as Token<T>;
}

export class Container {
  private constructor(private readonly c: DependencyContainer) {}

  /** a fresh root container (isolated from tsyringe's global one) */
  static root(): Container {
    return new Container(globalContainer.createChildContainer());
  }

  child(): Container {
    return new Container(this.c.createChildContainer());
  }

  value<T>(t: Token<T>, v: T): this {
    this.c.register(t, { useValue: v });
    return this;
  }

  /** a singleton of this container, made on first resolution (by `make`, given this container) */
  lazy<T>(t: Token<T>, make: (c: Container) => T): this {
    this.c.register(t, { useFactory: instanceCachingFactory(() => make(this)) });
    return this;
  }

  /**
   * The instance registered in this container (not a parent) under `key`, registering `make` as
   * its lazy singleton first when there is none: what keeps one component per config path.
   */
  once<T>(key: string, make: () => T): T {
    const t = `vp:${key}`;
    if (!this.c.isRegistered(t, false)) this.c.register(t, { useFactory: instanceCachingFactory(make) });
    return this.c.resolve<T>(t);
  }

  has(t: Token<unknown>): boolean {
    return this.c.isRegistered(t, true);
  }

  get<T>(t: Token<T>): T {
    if (!this.c.isRegistered(t, true)) throw new Error(`service ${t.description ?? String(t)} is not registered`);
    return this.c.resolve<T>(t);
  }
}
