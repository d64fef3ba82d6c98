/**
 * Alembic itself, for tests that compare with it or hand databases back and forth.
 *
 * Python comes from `STRATA_TEST_PYTHON` (set by `scripts/run_tests.ts`, which pip-installs
 * Alembic when missing) or `python3`. Without Alembic, {@link alembicTest} fails under `CI`
 * and is ignored elsewhere.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import * as path from "node:path";
import process from "node:process";
import { requiredTest, type Requirement } from "./requirement.ts";
import { writeFiles } from "./tmp.ts";
import { type CliResult, runCommand } from "./runtimes.ts";

/** The Python that can import alembic, sqlalchemy and psycopg2, or null. */
export const PYTHON: string | null = (() => {
  const python = process.env.STRATA_TEST_PYTHON ?? "python3";
  const probe = spawnSync(python, ["-c", "import alembic, sqlalchemy, psycopg2"]);
  return probe.status === 0 ? python : null;
})();

/** Alembic for tests, probed once when this module loads. */
export const ALEMBIC: Requirement = {
  missing: PYTHON === null ? "no Alembic" : null,
  remedy: "python3 cannot import alembic, sqlalchemy and psycopg2 " +
    "(pip install alembic psycopg2-binary, or run through `deno task test`)",
};

/** Register a test that needs Alembic and `requirements` (see `requirement.ts`). */
export function alembicTest(
  name: string,
  fn: () => Promise<void>,
  requirements: readonly Requirement[] = [],
): void {
  requiredTest(`[alembic] ${name}`, [ALEMBIC, ...requirements], fn);
}

/** A SQLAlchemy URL for a strata URL. */
export function sqlalchemyUrl(url: string): string {
  if (url.startsWith("sqlite:")) return `sqlite:///${path.resolve(url.slice("sqlite:".length))}`;
  return url.replace(/^postgres(ql)?:\/\//, "postgresql+psycopg2://");
}

/** One migration of an Alembic project whose upgrade and downgrade execute raw SQL. */
export interface AlembicRevision {
  readonly revision: string;
  readonly downRevision: string | readonly string[] | null;
  readonly up: readonly string[];
  readonly down: readonly string[];
}

function pyString(value: string): string {
  return JSON.stringify(value);
}

/** Write an Alembic project (alembic.ini, env.py, versions/) into `dir`. */
export function writeAlembicProject(
  dir: string,
  url: string,
  revisions: readonly AlembicRevision[],
): void {
  const files: Record<string, string> = {
    "alembic.ini": `[alembic]\nscript_location = %(here)s/alembic\nsqlalchemy.url = ${
      sqlalchemyUrl(url).replaceAll("%", "%%")
    }\n`,
    "alembic/env.py": `from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = engine_from_config(config.get_section(config.config_ini_section), prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
`,
  };
  for (const r of revisions) {
    const down = r.downRevision === null
      ? "None"
      : typeof r.downRevision === "string"
      ? pyString(r.downRevision)
      : `(${r.downRevision.map(pyString).join(", ")},)`;
    const body = (statements: readonly string[]) =>
      statements.length === 0
        ? "    pass\n"
        : statements.map((s) => `    op.execute(${pyString(s)})\n`).join("");
    files[`alembic/versions/${r.revision}.py`] = `from alembic import op

revision = ${pyString(r.revision)}
down_revision = ${down}
branch_labels = None
depends_on = None


def upgrade():
${body(r.up)}

def downgrade():
${body(r.down)}`;
  }
  writeFiles(dir, files);
}

/** Run `alembic <args>` in a project directory. */
export function runAlembic(dir: string, args: readonly string[]): Promise<CliResult> {
  return runCommand([PYTHON!, "-m", "alembic", "-c", path.join(dir, "alembic.ini"), ...args], {
    cwd: dir,
  });
}
