/**
 * The runner on real databases, both dialects: upgrade, downgrade, stamp, dry runs, failures
 * that leave the database as it was, strata_log, checksums, and bad input.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { current, downgrade, stamp, upgrade } from "../lib/migrate.ts";
import type { RunEvent } from "../lib/runner/runner.ts";
import { MigrationError } from "../lib/runner/runner.ts";
import { RevisionError } from "../lib/revision/graph.ts";
import { dialectTest, linearChain, revisionId, sqlMigration } from "./support/databases.ts";

const R = revisionId;

function collect() {
  const events: RunEvent[] = [];
  return {
    events,
    onEvent: (e: RunEvent) => events.push(e),
    sql: () => events.filter((e) => e.type === "sql").map((e) => (e as { text: string }).text),
    warnings: () =>
      events.filter((e) => e.type === "warning").map((e) => (e as { message: string }).message),
  };
}

async function logRows(db: { query: <T>(sql: string) => Promise<T[]> }) {
  return await db.query<{ revision: string; direction: string; outcome: string }>(
    "SELECT revision, direction, outcome FROM strata_log ORDER BY started_at, finished_at",
  );
}

async function tableNames(db: { dialect: string; query: <T>(sql: string) => Promise<T[]> }) {
  const rows = db.dialect === "sqlite"
    ? await db.query<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 't%' ORDER BY name",
    )
    : await db.query<{ name: string }>(
      "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 't%' ORDER BY tablename",
    );
  return rows.map((r) => r.name);
}

dialectTest("upgrade, downgrade, mid targets and base, with strata_log", async (db) => {
  db.write(linearChain(4));
  const options = { url: db.url, dir: db.migrations };

  const mid = await upgrade(R(2), options);
  assert.deepEqual(mid.steps.map((s) => [s.revision, s.status]), [
    [R(1), "applied"],
    [R(2), "applied"],
  ]);
  assert.deepEqual(await db.versions(), [R(2)]);

  const head = await upgrade("head", options);
  assert.deepEqual(head.steps.map((s) => s.revision), [R(3), R(4)]);
  assert.deepEqual(await db.versions(), [R(4)]);
  assert.deepEqual(await tableNames(db), ["t1", "t2", "t3", "t4"]);

  const down = await downgrade("-1", options);
  assert.deepEqual(down.steps.map((s) => [s.revision, s.direction]), [[R(4), "down"]]);
  assert.deepEqual(await db.versions(), [R(3)]);

  const now = await current(options);
  assert.deepEqual(now.revisions.map((r) => [r.revision, r.isHead]), [[R(3), false]]);

  await downgrade("base", options);
  assert.deepEqual(await db.versions(), []);
  assert.deepEqual(await tableNames(db), []);

  const log = await logRows(db);
  assert.deepEqual(log.map((r) => `${r.revision} ${r.direction} ${r.outcome}`), [
    `${R(1)} up applied`,
    `${R(2)} up applied`,
    `${R(3)} up applied`,
    `${R(4)} up applied`,
    `${R(4)} down unapplied`,
    `${R(3)} down unapplied`,
    `${R(2)} down unapplied`,
    `${R(1)} down unapplied`,
  ]);
});

dialectTest("stamp and stamp --purge move the version table only", async (db) => {
  db.write(linearChain(3));
  const options = { url: db.url, dir: db.migrations };
  await stamp(R(2), options);
  assert.deepEqual(await db.versions(), [R(2)]);
  assert.deepEqual(await tableNames(db), [], "stamp runs no migration");
  await stamp("head", options);
  assert.deepEqual(await db.versions(), [R(3)]);
  // A row the chain does not know: only --purge gets past it.
  await db.query(`UPDATE alembic_version SET version_num = 'ffffffffffff'`);
  await assert.rejects(stamp(R(1), options), RevisionError);
  await stamp(R(1), { ...options, purge: true });
  assert.deepEqual(await db.versions(), [R(1)]);
  const log = await logRows(db);
  assert.deepEqual(log.map((r) => `${r.revision} ${r.outcome}`), [
    `${R(2)} stamped`,
    `${R(3)} stamped`,
    `${R(1)} stamped`,
  ]);
});

dialectTest("--sql prints the statements and changes nothing", async (db) => {
  db.write(linearChain(3));
  const options = { url: db.url, dir: db.migrations };
  await upgrade(R(1), options);
  const before = await db.versions();

  const up = collect();
  const result = await upgrade("head", { ...options, sql: true, onEvent: up.onEvent });
  assert.equal(result.dryRun, true);
  const text = up.sql().join("\n");
  const begin = db.dialect === "sqlite" ? "BEGIN IMMEDIATE;" : "BEGIN;";
  // On PostgreSQL every commit but the run's last leaves the wait for the disk to the last.
  const deferred = db.dialect === "sqlite" ? "" : "SET LOCAL synchronous_commit = off;\n";
  assert.ok(text.includes(`${begin}\n${deferred}CREATE TABLE t2`), text);
  assert.ok(text.includes(`${begin}\nCREATE TABLE t3`), text);
  assert.match(
    text,
    new RegExp(
      `UPDATE alembic_version SET version_num='${R(2)}' WHERE alembic_version.version_num = '${
        R(1)
      }';`,
    ),
  );
  assert.match(text, /INSERT INTO strata_log .*'applied'/);
  assert.equal(text.match(/^COMMIT;$/gm)?.length, 2);
  assert.deepEqual(await db.versions(), before, "dry run changed nothing");
  assert.deepEqual(await tableNames(db), ["t1"]);

  const down = collect();
  await downgrade("base", { ...options, sql: true, onEvent: down.onEvent });
  assert.match(
    down.sql().join("\n"),
    new RegExp(
      `DROP TABLE t1;\nDELETE FROM alembic_version WHERE alembic_version.version_num = '${R(1)}';`,
    ),
  );

  const st = collect();
  await stamp("head", { ...options, sql: true, onEvent: st.onEvent });
  assert.match(st.sql().join("\n"), new RegExp(`UPDATE alembic_version SET version_num='${R(3)}'`));
  assert.deepEqual(await db.versions(), before);
});

dialectTest("--sql with a from:to range needs no database", async (db) => {
  db.write(linearChain(3));
  const out = collect();
  const result = await upgrade(`${R(1)}:${R(3)}`, {
    url: db.dialect === "sqlite"
      ? `sqlite:${path.join(db.dir, "never-created.db")}`
      : "postgresql://nobody@127.0.0.1:1/none",
    dir: db.migrations,
    sql: true,
    onEvent: out.onEvent,
  });
  assert.deepEqual(result.steps.map((s) => s.revision), [R(2), R(3)]);
  assert.match(out.sql().join("\n"), /CREATE TABLE IF NOT EXISTS alembic_version/);
  assert.equal(fs.existsSync(path.join(db.dir, "never-created.db")), false);
});

dialectTest("a failing statement rolls its migration back, DDL and data", async (db) => {
  db.write({
    ...linearChain(2),
    [`2026_01_01_000003_${R(3)}_bad.sql`]: sqlMigration(
      R(3),
      R(2),
      "CREATE TABLE t3 (id INTEGER PRIMARY KEY);\nINSERT INTO t1 (id, note) VALUES (2, 'added');\nINSERT INTO missing_table VALUES (1);",
      "DROP TABLE t3;",
    ),
    ...linearChain(1, 4),
  });
  // t4's parent is t3 in linearChain's numbering.
  const options = { url: db.url, dir: db.migrations };
  const error = await upgrade("head", options).then(
    () => assert.fail("upgrade should fail"),
    (e) => e,
  );
  assert.ok(error instanceof MigrationError, String(error));
  assert.equal(error.revision, R(3));
  assert.match(
    error.message,
    new RegExp(`Cannot apply ${R(3)} \\(.*_bad\\.sql\\): .*missing_table`),
  );
  assert.match(error.statement ?? "", /INSERT INTO missing_table/);
  assert.equal(error.line, 8);
  assert.deepEqual(error.results.map((r) => [r.revision, r.status]), [
    [R(1), "applied"],
    [R(2), "applied"],
    [R(3), "failed"],
    [R(4), "not run"],
  ]);
  assert.deepEqual(await db.versions(), [R(2)]);
  assert.deepEqual(await tableNames(db), ["t1", "t2"], "t3 was rolled back");
  const rows = await db.query<{ n: number }>("SELECT count(*) AS n FROM t1");
  assert.equal(Number(rows[0].n), 1, "the data change was rolled back");
  const log = await logRows(db);
  assert.equal(log.length, 2, "a rolled-back migration leaves no log row");
});

dialectTest("a TypeScript migration that throws is rolled back", async (db) => {
  db.write({
    ...linearChain(1),
    [`2026_01_01_000002_${R(2)}_throws.ts`]: `
export const revision = "${R(2)}";
export const downRevision = "${R(1)}";
export async function upgrade({ op, t }) {
  await op.createTable("t2", [{ name: "id", type: t.integer(), primaryKey: true }]);
  await op.execute("INSERT INTO t1 (id, note) VALUES (2, 'x')");
  throw new Error("the migration's own check failed");
}
export async function downgrade({ op }) { await op.dropTable("t2"); }
`,
  });
  await assert.rejects(
    upgrade("head", { url: db.url, dir: db.migrations }),
    (e: unknown) =>
      e instanceof MigrationError && e.revision === R(2) &&
      /the migration's own check failed/.test(e.message),
  );
  assert.deepEqual(await db.versions(), [R(1)]);
  assert.deepEqual(await tableNames(db), ["t1"]);
  const rows = await db.query<{ n: number }>("SELECT count(*) AS n FROM t1");
  assert.equal(Number(rows[0].n), 1);
});

dialectTest("bad input: unknown target, unknown current revision, no down section", async (db) => {
  db.write({
    ...linearChain(1),
    [`2026_01_01_000002_${R(2)}_no_down.sql`]: sqlMigration(
      R(2),
      R(1),
      "CREATE TABLE t2 (id INTEGER);",
    ),
  });
  const options = { url: db.url, dir: db.migrations };
  await assert.rejects(upgrade("feedfacecafe", options), RevisionError);
  await upgrade("head", options);
  await assert.rejects(
    downgrade("-1", options),
    (e: unknown) => e instanceof MigrationError && /has no downgrade/.test(e.message),
  );
  assert.deepEqual(await db.versions(), [R(2)], "the failed downgrade changed nothing");
  await db.query("UPDATE alembic_version SET version_num = 'ffffffffffff'");
  await assert.rejects(
    upgrade("head", options),
    (e: unknown) => e instanceof RevisionError && /ffffffffffff/.test(e.message),
  );
  await assert.rejects(current(options), /ffffffffffff/);
});

dialectTest("a changed file is reported with a warning on the next upgrade", async (db) => {
  const chain = linearChain(2);
  db.write(chain);
  const options = { url: db.url, dir: db.migrations };
  await upgrade("head", options);
  const [name] = Object.keys(chain);
  db.write({ [name]: chain[name].replace("row of 1", "row of one") });
  const out = collect();
  await upgrade("head", { ...options, onEvent: out.onEvent });
  assert.match(
    out.warnings().join("\n"),
    new RegExp(`${R(1)} .* has changed since it was applied`),
  );
  // Line endings alone are not a change.
  db.write({ [name]: chain[name].replaceAll("\n", "\r\n") });
  const crlf = collect();
  await upgrade("head", { ...options, onEvent: crlf.onEvent });
  assert.deepEqual(crlf.warnings(), []);
});

dialectTest("a non-transactional migration that fails is logged as partial", async (db) => {
  db.write({
    ...linearChain(1),
    [`2026_01_01_000002_${R(2)}_autocommit.sql`]: sqlMigration(
      R(2),
      R(1),
      "CREATE TABLE t2 (id INTEGER);\nINSERT INTO nowhere VALUES (1);",
      "DROP TABLE t2;",
      { transactional: false },
    ),
  });
  const options = { url: db.url, dir: db.migrations };
  await assert.rejects(
    upgrade("head", options),
    (e: unknown) => e instanceof MigrationError && e.partial && /partly applied/.test(e.message),
  );
  assert.deepEqual(await db.versions(), [R(1)], "the version table did not move");
  assert.deepEqual(await tableNames(db), ["t1", "t2"], "autocommit kept the first statement");
  const log = await logRows(db);
  assert.equal(log.at(-1)?.outcome, "partial");
  const next = collect();
  await assert.rejects(upgrade("head", { ...options, onEvent: next.onEvent }));
  assert.match(next.warnings().join("\n"), new RegExp(`${R(2)} was left partly applied`));
});

dialectTest("a transactional migration may not end its own transaction", async (db) => {
  db.write({
    ...linearChain(1),
    [`2026_01_01_000002_${R(2)}_commits.sql`]: sqlMigration(
      R(2),
      R(1),
      "CREATE TABLE t2 (id INTEGER PRIMARY KEY);\nCOMMIT;\nCREATE TABLE t3 (id INTEGER);",
    ),
  });
  const options = { url: db.url, dir: db.migrations };
  await assert.rejects(
    upgrade("head", options),
    (e: unknown) =>
      e instanceof MigrationError && /cannot end or begin its own transaction/.test(e.message) &&
      e.statement === "COMMIT",
  );
  assert.deepEqual(await db.versions(), [R(1)]);
  assert.deepEqual(await tableNames(db), ["t1"], "nothing of the refused migration ran");

  // The same from a TypeScript migration; a savepoint is fine.
  fs.rmSync(path.join(db.migrations, db.dialect, `2026_01_01_000002_${R(2)}_commits.sql`));
  db.write({
    [`2026_01_01_000002_${R(2)}_commits.ts`]: `export const revision = "${R(2)}";
export const downRevision = "${R(1)}";
export async function upgrade({ op }) {
  await op.execute("SAVEPOINT s1");
  await op.execute("CREATE TABLE t2 (id INTEGER PRIMARY KEY)");
  await op.execute("RELEASE s1");
  await op.execute("ROLLBACK");
}
`,
  });
  await assert.rejects(
    upgrade("head", options),
    /cannot end or begin its own transaction/,
  );
  assert.deepEqual(await db.versions(), [R(1)]);
  assert.deepEqual(await tableNames(db), ["t1"], "rolled back, t2 included");
});

dialectTest("a TypeScript migration that forgets an await commits nothing", async (db) => {
  db.write({
    ...linearChain(1),
    [`2026_01_01_000002_${R(2)}_no_await.ts`]: `export const revision = "${R(2)}";
export const downRevision = "${R(1)}";
export async function upgrade({ op }) {
  await op.execute("CREATE TABLE t2 (id INTEGER PRIMARY KEY)");
  op.execute("INSERT INTO missing_table VALUES (1)");
}
`,
  });
  await assert.rejects(upgrade("head", { url: db.url, dir: db.migrations }), /missing_table/);
  assert.deepEqual(await db.versions(), [R(1)]);
  assert.deepEqual(await tableNames(db), ["t1"]);
});

dialectTest(
  "an error thrown by a TypeScript migration does not blame its last statement",
  async (db) => {
    db.write({
      ...linearChain(1),
      [`2026_01_01_000002_${R(2)}_throws.ts`]: `export const revision = "${R(2)}";
export const downRevision = "${R(1)}";
export async function upgrade({ op }) {
  await op.execute("INSERT INTO t1 (id, note) VALUES (5, 'fine')");
  throw new Error("the data is not what this migration expects");
}
`,
    });
    const error = await upgrade("head", { url: db.url, dir: db.migrations }).then(
      () => assert.fail("should fail"),
      (e) => e,
    );
    assert.ok(error instanceof MigrationError);
    assert.match(error.message, /the data is not what this migration expects/);
    assert.equal(error.statement ?? null, null, "no statement failed");
  },
);

dialectTest("bad input leaves the database as it was, bookkeeping tables included", async (db) => {
  db.write(linearChain(2));
  const options = { url: db.url, dir: db.migrations };
  await assert.rejects(upgrade("zzzz9999", options), RevisionError);
  await assert.rejects(stamp("zzzz9999", options), RevisionError);
  assert.deepEqual(await tableNames(db), [], "no version or log table was created");
});

dialectTest("a downgrade through a file without a down section changes nothing", async (db) => {
  db.write({
    [`2026_01_01_000001_${R(1)}_first.sql`]: sqlMigration(
      R(1),
      null,
      "CREATE TABLE t1 (id INTEGER);",
    ),
    ...linearChain(2, 2),
  });
  const options = { url: db.url, dir: db.migrations };
  await upgrade("head", options);
  const error = await downgrade("base", options).then(() => assert.fail("should fail"), (e) => e);
  assert.ok(error instanceof MigrationError);
  assert.match(error.message, /has no downgrade/);
  assert.deepEqual(error.results.map((r) => r.status), ["not run", "not run", "failed"]);
  assert.deepEqual(await db.versions(), [R(3)], "not one step was taken");
});

dialectTest(
  "a partly applied non-transactional downgrade is reported on the next run",
  async (db) => {
    db.write({
      ...linearChain(1),
      [`2026_01_01_000002_${R(2)}_two.sql`]: sqlMigration(
        R(2),
        R(1),
        "CREATE TABLE t2 (id INTEGER);\nCREATE TABLE t3 (id INTEGER);",
        "DROP TABLE t2;\nDROP TABLE t3_typo;",
        { transactional: false },
      ),
    });
    const options = { url: db.url, dir: db.migrations };
    await upgrade("head", options);
    await assert.rejects(downgrade("-1", options), MigrationError);
    const warnings: string[] = [];
    await upgrade("head", {
      ...options,
      onEvent: (e) => {
        if (e.type === "warning") warnings.push(e.message);
      },
    });
    assert.match(warnings.join("\n"), new RegExp(`${R(2)} was left partly unapplied`));
  },
);

Deno.test("a version table with a schema prefix is refused, not created under that name", async () => {
  await assert.rejects(
    current({ url: "sqlite::memory:", versionTable: "app.alembic_version", dir: "/nonexistent" }),
    /schema-qualified version tables are not supported/,
  );
});

Deno.test({
  name: "a server that is not PostgreSQL fails within the wait timeout",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    (async () => {
      for await (const conn of listener) {
        await conn.write(new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n")).catch(
          () => {},
        );
        conn.close();
      }
    })();
    try {
      const dir = Deno.makeTempDirSync();
      Deno.mkdirSync(`${dir}/postgresql`);
      const started = Date.now();
      await assert.rejects(
        current({ url: `postgresql://u:pw@127.0.0.1:${port}/db`, dir, waitTimeoutMs: 1500 }),
        /no answer within|Cannot connect|ECONNRESET|closed/i,
      );
      assert.ok(Date.now() - started < 8000, `took ${Date.now() - started} ms`);
    } finally {
      listener.close();
    }
  },
});

dialectTest("a migration that changes the version table itself is rolled back", async (db) => {
  db.write({
    ...linearChain(1),
    [`2026_01_01_000002_${R(2)}_meddles.sql`]: sqlMigration(
      R(2),
      R(1),
      "CREATE TABLE t2 (id INTEGER);\nDELETE FROM alembic_version;",
    ),
  });
  await assert.rejects(
    upgrade("head", { url: db.url, dir: db.migrations }),
    /changed the version table alembic_version itself/,
  );
  assert.deepEqual(await db.versions(), [R(1)]);
  assert.deepEqual(await tableNames(db), ["t1"]);
});

Deno.test("current on a SQLite path with no file says so and creates nothing", async () => {
  const dir = Deno.makeTempDirSync();
  const file = path.join(dir, "typo.db");
  fs.mkdirSync(path.join(dir, "sqlite"));
  const result = await current({ url: `sqlite:${file}`, dir });
  assert.equal(result.missing, true);
  assert.deepEqual(result.revisions, []);
  assert.ok(!fs.existsSync(file), "no file was created");
  fs.rmSync(dir, { recursive: true });
});

Deno.test("a failed first migration leaves a database's schema as it was", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    fs.mkdirSync(path.join(dir, "sqlite"));
    fs.writeFileSync(
      path.join(dir, "sqlite", `2026_01_01_000001_${R(1)}_bad.sql`),
      sqlMigration(
        R(1),
        null,
        "CREATE TABLE t_made (id INTEGER);\nINSERT INTO no_such VALUES (1);",
      ),
    );
    // A file that did not exist stays (another run may hold it open), with nothing in it.
    const made = path.join(dir, "made.db");
    await assert.rejects(upgrade("head", { url: `sqlite:${made}`, dir }), /no such table/);
    const left = new DatabaseSync(made);
    const objects = left.prepare("SELECT name FROM sqlite_master").all();
    left.close();
    assert.deepEqual(objects, []);
    const fresh = path.join(dir, "fresh.db");
    // A file that existed: its schema as it was, no bookkeeping tables.
    const existing = path.join(dir, "existing.db");
    const setup = new DatabaseSync(existing);
    setup.exec("CREATE TABLE keep (a)");
    setup.close();
    await assert.rejects(upgrade("head", { url: `sqlite:${existing}`, dir }), /no such table/);
    const after = new DatabaseSync(existing);
    const names = after.prepare("SELECT name FROM sqlite_master ORDER BY name").all();
    after.close();
    assert.deepEqual(names.map((r) => r.name), ["keep"]);
    // A bad target or nothing to do on a missing file: no file either.
    await assert.rejects(upgrade("zzzz", { url: `sqlite:${fresh}`, dir }), RevisionError);
    await downgrade("base", { url: `sqlite:${fresh}`, dir });
    assert.ok(!fs.existsSync(fresh), "no file was created");
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});

dialectTest("an onEvent handler that throws does not cut the run short", async (db) => {
  db.write(linearChain(3));
  await assert.rejects(
    upgrade("head", {
      url: db.url,
      dir: db.migrations,
      onEvent: (event) => {
        if (event.type === "step") throw new Error("handler bug");
      },
    }),
    /an onEvent handler threw during the run, which completed: handler bug/,
  );
  const versions = await db.query<{ version_num: string }>(
    "SELECT version_num FROM alembic_version",
  );
  assert.deepEqual(versions.map((r) => r.version_num), [R(3)]);
});
