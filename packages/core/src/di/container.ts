import "reflect-metadata";
import { type DependencyContainer, container as globalContainer, instanceCachingFactory } from "tsyringe";

/**
 * The DI facade. Core wraps tsyringe so that plugins never import it: they receive a
 * ComponentContext built from a container. The root container holds run-wide services (logger,
 * RNG streams, backend, registries); each stage gets a child container with its own artifact
 * store, logger and component cache.
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

  /** a lazily created singleton (per container) */
  lazy<T>(t: Token<T>, make: (c: Container) => T): this {
    this.c.register(t, { useFactory: instanceCachingFactory(() => make(this)) });
    return this;
  }

  has(t: Token<unknown>): boolean {
    return this.c.isRegistered(t, true);
  }

  get<T>(t: Token<T>): T {
    if (!this.c.isRegistered(t, true)) throw new Error(`service ${t.description ?? String(t)} is not registered`);
    return this.c.resolve<T>(t);
  }
}
