/**
 * The runtime matrix: run strata's command line under Deno and under Bun.
 *
 * Bun comes from `STRATA_TEST_BUN` (set by `scripts/run_tests.ts`, which installs it from npm when
 * missing) or PATH. Without it, {@link runtimeTest} fails under `CI` and is ignored elsewhere.
 *
 * @module
 */

import { spawn, spawnSync } from "node:child_process";
import * as path from "node:path";
import process from "node:process";
import { requiredTest, type Requirement } from "./requirement.ts";

/** The repository root. */
export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..", "..");
/** The command-line entry point. */
export const CLI = path.join(ROOT, "cli.ts");

/** A runtime to run the CLI with. */
export interface Runtime {
  readonly name: "deno" | "bun";
  /** The command prefix that runs a TypeScript file. */
  readonly command: readonly string[] | null;
}

function findBun(): string | null {
  if (process.env.STRATA_TEST_BUN) return process.env.STRATA_TEST_BUN;
  const found = spawnSync("sh", ["-c", "command -v bun"], { encoding: "utf8" });
  return found.status === 0 ? found.stdout.trim() : null;
}

const bun = findBun();

/** Deno (this process's runtime) and Bun. */
export const RUNTIMES: readonly Runtime[] = [
  { name: "deno", command: [process.execPath, "run", "--allow-all", "--quiet"] },
  { name: "bun", command: bun ? [bun, "run", "--silent"] : null },
];

/** What a CLI run printed and returned. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run the CLI under a runtime. */
export function runCli(
  runtime: Runtime,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  if (!runtime.command) throw new Error(`${runtime.name} is not available`);
  const [cmd, ...prefix] = runtime.command;
  return runCommand([cmd, ...prefix, CLI, ...args], options);
}

/** Run any command and collect its output. */
export function runCommand(
  argv: readonly string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: "1", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => stdout += d);
    child.stderr.on("data", (d) => stderr += d);
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** A runtime's presence, as a test requirement. */
export function runtimeRequirement(runtime: Runtime): Requirement {
  return {
    missing: runtime.command === null ? `no ${runtime.name}` : null,
    remedy: "run through `deno task test`, which installs Bun from npm",
  };
}

/**
 * Register one test per runtime, each also needing `requirements`; a missing runtime or
 * requirement fails under `CI` and is ignored elsewhere (see `requirement.ts`).
 */
export function runtimeTest(
  name: string,
  fn: (runtime: Runtime) => Promise<void>,
  requirements: readonly Requirement[] = [],
): void {
  for (const runtime of RUNTIMES) {
    requiredTest(
      `[${runtime.name}] ${name}`,
      [runtimeRequirement(runtime), ...requirements],
      () => fn(runtime),
    );
  }
}
