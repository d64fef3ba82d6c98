/**
 * Tests that need something outside the repository (a PostgreSQL server, Alembic, Bun).
 *
 * One policy for all of them: when a requirement is missing, the test fails under `CI` (set and
 * non-empty) with what is missing and how to get it, and elsewhere is registered as ignored
 * with a `SKIPPED` line on the console, so a local run says loudly what it did not test.
 *
 * @module
 */

import process from "node:process";

/** Something a test needs, probed once when the test module loads. */
export interface Requirement {
  /** What is absent, in a few words (`no PostgreSQL server`), or null when it is present. */
  readonly missing: string | null;
  /** How to provide it; part of the failure under `CI`. */
  readonly remedy: string;
}

/** Whether missing requirements fail tests (`CI` set and non-empty) rather than skip them. */
export const REQUIRE_ALL: boolean = Boolean(process.env.CI);

/**
 * Register `fn` as a test needing every one of `requirements`. The first missing one decides:
 * under `CI` the test fails naming it and its remedy; elsewhere the test is ignored and a
 * `SKIPPED` line is printed. Sanitizers are off: these tests drive servers and processes.
 */
export function requiredTest(
  name: string,
  requirements: Requirement | readonly Requirement[],
  fn: () => Promise<void>,
): void {
  const lacking = [requirements].flat().find((requirement) => requirement.missing !== null);
  if (lacking && !REQUIRE_ALL) console.warn(`SKIPPED (${lacking.missing}): ${name}`);
  Deno.test({
    name,
    ignore: lacking !== undefined && !REQUIRE_ALL,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      if (lacking) {
        throw new Error(`Cannot run '${name}': ${lacking.missing}; ${lacking.remedy}`);
      }
      await fn();
    },
  });
}
