/**
 * Finding the outside tools the scripts need: commands on PATH, and a Python that can import
 * Alembic (installed with pip from the machine's configured index when it cannot).
 *
 * @module
 */

import { spawnSync } from "node:child_process";

/** The path of a command on PATH, or null. */
export function which(command: string): string | null {
  const result = spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : null;
}

/**
 * A `python3` that imports alembic, sqlalchemy and psycopg2, pip-installing `alembic` and
 * `psycopg2-binary` when it does not; null when there is no python3 or the install fails.
 */
export function findOrInstallAlembic(log: (line: string) => void = console.log): string | null {
  const python = which("python3");
  if (!python) return null;
  const probe = () =>
    spawnSync(python, ["-c", "import alembic, sqlalchemy, psycopg2"]).status === 0;
  if (probe()) return python;
  log("installing alembic and psycopg2-binary with pip");
  spawnSync(python, ["-m", "pip", "install", "--quiet", "alembic", "psycopg2-binary"], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  return probe() ? python : null;
}
