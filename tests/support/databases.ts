/**
 * Run one test body against both dialects: a SQLite file in a temp directory, and a fresh
 * PostgreSQL database (see `pg.ts` for how a missing server is handled).
 *
 * @module
 */

import * as path from "node:path";
import type { Connection } from "../../lib/db/connection.ts";
import { openConnection } from "../../lib/db/open.ts";
import type { DialectName } from "../../lib/revision/revision.ts";
import { pgTest } from "./pg.ts";
import { withTempDir, writeFiles } from "./tmp.ts";

/** A database under test, and a directory for its migrations. */
export interface TestDatabase {
  readonly dialect: DialectName;
  readonly url: string;
  /** A temp directory; migrations go in `<dir>/migrations/<dialect>`. */
  readonly dir: string;
  /** The migrations root to pass as `dir`. */
  readonly migrations: string;
  /** Run a query on a connection of its own (opened and closed per call). */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** The version table's rows, sorted. */
  versions(table?: string): Promise<string[]>;
  /** Write migration files into this dialect's chain. */
  write(files: Record<string, string>): void;
}

function testDatabase(dialect: DialectName, url: string, dir: string): TestDatabase {
  const migrations = path.join(dir, "migrations");
  const withConnection = async <T>(fn: (c: Connection) => Promise<T>) => {
    const connection = openConnection(url);
    try {
      return await fn(connection);
    } finally {
      await connection.close();
    }
  };
  return {
    dialect,
    url,
    dir,
    migrations,
    query: <T>(sql: string, params: unknown[] = []) =>
      withConnection((c) => c.query(sql, params)) as Promise<T[]>,
    versions: (table = "alembic_version") =>
      withConnection(async (c) =>
        (await c.query<{ v: string }>(`SELECT version_num AS v FROM ${table}`)).map((r) => r.v)
          .sort()
      ),
    write: (files) => writeFiles(path.join(migrations, dialect), files),
  };
}

/** Register `name` once per dialect. */
export function dialectTest(name: string, fn: (db: TestDatabase) => Promise<void>): void {
  Deno.test({
    name: `[sqlite] ${name}`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () =>
      withTempDir((dir) => fn(testDatabase("sqlite", `sqlite:${path.join(dir, "test.db")}`, dir))),
  });
  pgTest(name, (url) => withTempDir((dir) => fn(testDatabase("postgresql", url, dir))));
}

/** The text of a `.sql` migration. */
export function sqlMigration(
  revision: string,
  downRevision: string | null,
  up: string,
  down: string | null = null,
  options: { message?: string; transactional?: boolean; header?: string } = {},
): string {
  const marker = options.transactional === false ? " transaction:false" : "";
  return `-- revision: ${revision}
-- down_revision: ${downRevision ?? "none"}
-- message: ${options.message ?? `Revision ${revision}`}
${options.header ?? ""}
-- migrate:up${marker}
${up}
${down === null ? "" : `\n-- migrate:down${marker}\n${down}\n`}`;
}

/** A linear chain of `.sql` migrations, each creating table `t<i>`; IDs `a00000000001`... */
export function linearChain(count: number, start = 1): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = start; i < start + count; i++) {
    const id = revisionId(i);
    const parent = i === 1 ? null : revisionId(i - 1);
    const day = String(i).padStart(6, "0");
    files[`2026_01_01_${day}_${id}_create_t${i}.sql`] = sqlMigration(
      id,
      parent,
      `CREATE TABLE t${i} (id INTEGER PRIMARY KEY, note VARCHAR(50));\nINSERT INTO t${i} (id, note) VALUES (1, 'row of ${i}');`,
      `DROP TABLE t${i};`,
    );
  }
  return files;
}

/** The ID of the i-th revision of {@link linearChain}. */
export function revisionId(i: number): string {
  return `a${String(i).padStart(11, "0")}`;
}
