/**
 * Finding the outside tools the scripts need: commands on PATH, and a Python that can import
 * Alembic (installed with pip, or from Debian's packages, when it cannot).
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import process from "node:process";

/** The path of a command on PATH, or null. */
export function which(command: string): string | null {
  const result = spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : null;
}

const MODULES = "import alembic, sqlalchemy, psycopg2";

function imports(python: string): boolean {
  return spawnSync(python, ["-c", MODULES], { stdio: "ignore" }).status === 0;
}

/** The last lines of a failed command's output, for the log. */
function tail(result: { stdout?: string | null; stderr?: string | null }): string {
  const text = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim().split("\n");
  return text.slice(-4).join(" | ");
}

/**
 * A Python that imports alembic, sqlalchemy and psycopg2, or null. In order:
 * 1. `python3` on PATH, or Debian's `/usr/bin/python3`, already importing them;
 * 2. `pip install alembic psycopg2-binary` into `python3` (pip's own configured index);
 * 3. as root with apt: Debian's `python3-alembic` and `python3-psycopg2` (older Alembic, which
 *    the differential test allows for), used through `/usr/bin/python3`.
 * Each failed step says why in the log.
 */
export function findOrInstallAlembic(log: (line: string) => void = console.log): string | null {
  const python = which("python3");
  const debian = "/usr/bin/python3";
  for (const candidate of [python, debian]) {
    if (candidate && imports(candidate)) return candidate;
  }
  if (python) {
    log("installing alembic and psycopg2-binary with pip");
    const pip = spawnSync(
      python,
      ["-m", "pip", "install", "--quiet", "--retries", "1", "alembic", "psycopg2-binary"],
      { encoding: "utf8", timeout: 300_000 },
    );
    if (imports(python)) return python;
    log(`pip could not install them (exit ${pip.status ?? pip.signal}): ${tail(pip)}`);
  }
  if (process.getuid?.() === 0 && which("apt-get")) {
    const packages = ["python3-alembic", "python3-psycopg2"];
    const apt = (args: string[]) =>
      spawnSync("apt-get", args, {
        encoding: "utf8",
        timeout: 300_000,
        env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      });
    log(`installing ${packages.join(" and ")} with apt-get`);
    let result = apt(["install", "-y", "--no-install-recommends", ...packages]);
    if (result.status !== 0) {
      apt(["update"]);
      result = apt(["install", "-y", "--no-install-recommends", ...packages]);
    }
    if (imports(debian)) return debian;
    log(`apt-get could not install them (exit ${result.status ?? result.signal}): ${tail(result)}`);
  }
  return null;
}
