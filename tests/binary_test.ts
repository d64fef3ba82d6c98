/**
 * The compiled binary, as a user downloads and runs it: copied alone into an empty directory,
 * migrating with the chains embedded in it and with a project's chains from `--dir` (plain SQL
 * and a TypeScript migration with only a type import, in a directory outside the repository).
 *
 * The binary is built once per sources hash (`ensureBinary` in scripts/compile.ts, under a
 * lock in `dist/`), so every test file and every run shares one build. Without Bun the tests
 * fail under `CI` and are ignored elsewhere.
 *
 * @module
 */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { ensureBinary, renderEmbeddedModule } from "../scripts/compile.ts";
import { findOrInstallBun } from "../scripts/bun.ts";
import { loadProjectChain, locateProject } from "../lib/project.ts";
import { VERSION } from "../lib/version.ts";
import { ROOT, runCommand } from "./support/runtimes.ts";
import { withTempDir, writeFiles } from "./support/tmp.ts";
import { requiredTest, type Requirement } from "./support/requirement.ts";

/** Bun builds the binary. */
const BUN: Requirement = {
  missing: findOrInstallBun(() => {}) === null ? "no Bun to build the binary" : null,
  remedy: "install Bun, or let `deno task test` install it from npm",
};

let built: string | undefined;
function binary(): string {
  built ??= ensureBinary("linux-x64");
  return built;
}

function binaryTest(name: string, fn: () => Promise<void>): void {
  requiredTest(`[binary] ${name}`, BUN, fn);
}

/** Copy the binary alone into a new empty directory and run `fn` there. */
function withLoneBinary(fn: (dir: string, strata: string) => Promise<void>): Promise<void> {
  return withTempDir(async (dir) => {
    const strata = path.join(dir, "strata");
    fs.copyFileSync(binary(), strata);
    fs.chmodSync(strata, 0o755);
    await fn(dir, strata);
  });
}

function assertIncludes(text: string, part: string): void {
  assert.ok(text.includes(part), `expected ${JSON.stringify(part)} in:\n${text}`);
}

function versionRows(file: string): string[] {
  const db = new DatabaseSync(file);
  try {
    return (db.prepare("SELECT version_num FROM alembic_version ORDER BY 1").all() as {
      version_num: string;
    }[]).map((row) => row.version_num);
  } finally {
    db.close();
  }
}

function tableNames(file: string): string[] {
  const db = new DatabaseSync(file);
  try {
    return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1").all() as {
      name: string;
    }[]).map((row) => row.name);
  } finally {
    db.close();
  }
}

binaryTest("--version names strata's version, the runtime and SQLite", async () => {
  await withLoneBinary(async (dir, strata) => {
    const result = await runCommand([strata, "--version"], { cwd: dir });
    assert.deepEqual(result.code, 0, result.stderr);
    assert.match(
      result.stdout.trim(),
      new RegExp(
        `^strata ${
          VERSION.replaceAll(".", "\\.")
        } \\(bun \\d+\\.\\d+\\.\\d+, compiled; SQLite 3\\.\\d+\\.\\d+\\)$`,
      ),
    );
  });
});

binaryTest("upgrade with the embedded reference chain, from an empty directory", async () => {
  const reference = await loadProjectChain(
    locateProject({ dir: path.join(ROOT, "migrations") }),
    "sqlite",
  );
  const heads = [...reference.graph.heads].sort();
  await withLoneBinary(async (dir, strata) => {
    assert.deepEqual(fs.readdirSync(dir), ["strata"]);
    const upgrade = await runCommand([strata, "upgrade"], { cwd: dir });
    assert.deepEqual(upgrade.code, 0, `${upgrade.stdout}\n${upgrade.stderr}`);
    // The default URL is sqlite:./strata.db, and no ./migrations means the embedded chains.
    const db = path.join(dir, "strata.db");
    assert.ok(fs.existsSync(db), "upgrade created no ./strata.db");
    assert.deepEqual(versionRows(db), heads);
    const current = await runCommand([strata, "--json", "current"], { cwd: dir });
    assert.deepEqual(current.code, 0, current.stderr);
    const report = JSON.parse(current.stdout);
    assert.deepEqual(report.chain, "embedded:migrations/sqlite");
    assert.deepEqual(report.revisions.map((r: { revision: string }) => r.revision).sort(), heads);
    // Every revision of the reference chain ran: its last file's tables exist.
    if (heads.length > 0) assert.ok(tableNames(db).length > 1, "no reference tables created");
  });
});

const USER_SQL = `-- revision: b1a7e0000001
-- down_revision: none
-- message: create account

-- migrate:up
CREATE TABLE account (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
CREATE UNIQUE INDEX ix_account_email ON account (email);

-- migrate:down
DROP TABLE account;
`;

// A migration a user writes beside their application: its only import is a type, so it needs
// no strata on disk and no node_modules next to it.
const USER_TS = `import type { MigrationContext } from "@strata/strata";

export const revision = "b1a7e0000002";
export const downRevision = "b1a7e0000001";
export const message = "add session";

export async function upgrade({ sql }: MigrationContext): Promise<void> {
  await sql.unsafe("CREATE TABLE session (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL)");
  await sql\`INSERT INTO account (email) VALUES (\${"first@example.com"})\`;
}

export async function downgrade({ sql }: MigrationContext): Promise<void> {
  await sql.unsafe("DROP TABLE session");
}
`;

binaryTest(
  "--dir runs a project's .sql and .ts migrations from outside the repository",
  async () => {
    await withTempDir(async (project) => {
      assert.ok(!project.startsWith(ROOT), "the project must live outside the repository");
      writeFiles(project, {
        "sqlite/2026_03_01_120000_b1a7e0000001_create_account.sql": USER_SQL,
        "sqlite/2026_03_01_120500_b1a7e0000002_add_session.ts": USER_TS,
      });
      await withLoneBinary(async (dir, strata) => {
        const db = path.join(dir, "app.db");
        const common = ["--url", `sqlite:${db}`, "--dir", path.join(project)];
        const upgrade = await runCommand([strata, ...common, "upgrade", "head"], { cwd: dir });
        assert.deepEqual(upgrade.code, 0, `${upgrade.stdout}\n${upgrade.stderr}`);
        assertIncludes(upgrade.stdout, "b1a7e0000001");
        assertIncludes(upgrade.stdout, "b1a7e0000002");
        assert.deepEqual(versionRows(db), ["b1a7e0000002"]);
        const tables = tableNames(db);
        assert.ok(tables.includes("account"), `the .sql migration did not run: ${tables}`);
        assert.ok(tables.includes("session"), `the .ts migration did not run: ${tables}`);

        const current = await runCommand([strata, ...common, "current"], { cwd: dir });
        assert.deepEqual(current.code, 0, current.stderr);
        assertIncludes(current.stdout, "b1a7e0000002");

        const down = await runCommand([strata, ...common, "downgrade", "base"], { cwd: dir });
        assert.deepEqual(down.code, 0, `${down.stdout}\n${down.stderr}`);
        assert.deepEqual(versionRows(db), []);
        assert.ok(!tableNames(db).includes("account"), "downgrade base left the account table");
      });
    });
  },
);

Deno.test("the embedded module imports every .ts migration and inlines every file", async () => {
  await withTempDir(async (root) => {
    writeFiles(root, {
      "migrations/sqlite/2026_03_01_120000_b1a7e0000001_create_account.sql": USER_SQL,
      "migrations/sqlite/2026_03_01_120500_b1a7e0000002_add_session.ts": USER_TS,
      "migrations/sqlite/README.txt": "not a migration",
      "migrations/postgresql/2026_03_01_120000_c0ffee000001_create_account.sql": USER_SQL,
      "MIGRATION-NOTES.md": "# Notes\n",
      "templates/migration.ts.tmpl": 'export const revision = "${revision}";\n',
    });
    const module = path.join(root, "lib", "embedded.ts");
    writeFiles(root, { "lib/embedded.ts": renderEmbeddedModule(root) });
    const { embeddedFiles } = await import(`file://${module}`) as {
      embeddedFiles: Map<string, { text: string; module?: Record<string, unknown> }>;
    };
    assert.deepEqual([...embeddedFiles.keys()].sort(), [
      "MIGRATION-NOTES.md",
      "migrations/postgresql/2026_03_01_120000_c0ffee000001_create_account.sql",
      "migrations/sqlite/2026_03_01_120000_b1a7e0000001_create_account.sql",
      "migrations/sqlite/2026_03_01_120500_b1a7e0000002_add_session.ts",
      "templates/migration.ts.tmpl",
    ]);
    const ts = embeddedFiles.get(
      "migrations/sqlite/2026_03_01_120500_b1a7e0000002_add_session.ts",
    )!;
    assert.deepEqual(ts.text, USER_TS);
    assert.deepEqual(ts.module?.revision, "b1a7e0000002");
    assert.deepEqual(typeof ts.module?.upgrade, "function");
    const sql = embeddedFiles.get(
      "migrations/sqlite/2026_03_01_120000_b1a7e0000001_create_account.sql",
    )!;
    assert.deepEqual(sql.text, USER_SQL);
    assert.deepEqual(sql.module, undefined);
  });
});
