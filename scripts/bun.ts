/**
 * Find Bun for the build, the runtime tests and the benchmarks: `STRATA_TEST_BUN`, else `bun`
 * on PATH, else the pinned version installed from npm into `.cache/bun` (the npm package ships
 * the native binary for this platform, so nothing but the npm registry is needed).
 *
 * @module
 */

import { which } from "./tools.ts";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";

/** The Bun version strata builds and tests with. */
export const BUN_VERSION = "1.4.5";

/** The repository root. */
export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");

function works(bun: string): boolean {
  return spawnSync(bun, ["--version"], { encoding: "utf8" }).status === 0;
}

/**
 * The path of a working Bun, installing it from npm when there is none; null when that fails.
 * `log` receives one line when an install starts (npm's own errors go to stderr).
 */
export function findOrInstallBun(log: (line: string) => void = console.log): string | null {
  const fromEnv = process.env.STRATA_TEST_BUN;
  if (fromEnv && works(fromEnv)) return fromEnv;
  const onPath = which("bun");
  if (onPath && works(onPath)) return onPath;
  const prefix = path.join(ROOT, ".cache", "bun");
  const local = path.join(prefix, "node_modules", ".bin", "bun");
  if (!fs.existsSync(local)) {
    log(`installing bun@${BUN_VERSION} from npm into .cache/bun`);
    const npm = spawnSync(
      "npm",
      ["install", "--prefix", prefix, "--no-save", "--no-audit", "--no-fund", `bun@${BUN_VERSION}`],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    if (npm.status !== 0) return null;
  }
  return works(local) ? local : null;
}
