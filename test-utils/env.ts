import { afterEach } from "vitest";

/**
 * Put `names` back in process.env after each test of the calling file (or describe block) as they
 * were when this was called: set to the same value, or deleted. For code under test that sets
 * variables itself (vi.stubEnv only restores what it stubbed).
 */
export function keepEnv(...names: string[]): void {
  const saved = names.map((n) => [n, process.env[n]] as const);
  afterEach(() => {
    for (const [n, v] of saved) {
      if (v === undefined) delete process.env[n];
      else process.env[n] = v;
    }
  });
}
