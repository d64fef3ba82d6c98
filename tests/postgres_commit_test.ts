/**
 * How a run commits on PostgreSQL: every commit but the run's last leaves the wait for the disk
 * to a later one (`synchronous_commit = off` in its transaction), a failed run makes its earlier
 * commits durable before it returns, and a migration sent in one round trip with its log row
 * still has its real duration logged.
 */

import assert from "node:assert/strict";
import * as path from "node:path";
import { openConnection } from "../lib/db/open.ts";
import type { Connection } from "../lib/db/connection.ts";
import { acquireAdvisoryLock } from "../lib/runner/lock.ts";
import { upgrade } from "../lib/migrate.ts";
import { MigrationError } from "../lib/runner/runner.ts";
import { revisionId, sqlMigration } from "./support/databases.ts";
import { pgTest, queryOnce } from "./support/pg.ts";
import { withTempDir, writeFiles } from "./support/tmp.ts";
import { runCli, RUNTIMES } from "./support/runtimes.ts";

/** A chain of .sql migrations with the given up sections, each child of the one before. */
function chainOf(dir: string, ups: readonly string[]): string {
  const files: Record<string, string> = {};
  ups.forEach((up, k) => {
    const i = k + 1;
    files[`2026_01_01_00000${i}_${revisionId(i)}_step_${i}.sql`] = sqlMigration(
      revisionId(i),
      i === 1 ? null : revisionId(i - 1),
      up,
    );
  });
  const root = path.join(dir, "migrations");
  writeFiles(path.join(root, "postgresql"), files);
  return root;
}

/** A chain whose migration i records the synchronous_commit it ran under in table sc<i>. */
function settingChain(dir: string, count: number, last?: string): string {
  return chainOf(
    dir,
    Array.from(
      { length: count },
      (_, k) =>
        k === count - 1 && last !== undefined
          ? last
          : `CREATE TABLE sc${k + 1} AS SELECT current_setting('synchronous_commit') AS v;`,
    ),
  );
}

const query = queryOnce;

async function settingsSeen(url: string, count: number): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 1; i <= count; i++) {
    const [row] = await query<{ v: string }>(url, `SELECT v FROM sc${i}`);
    seen.push(row.v);
  }
  return seen;
}

pgTest("only the run's last commit waits for the disk, unless each must", async (url) => {
  await withTempDir(async (dir) => {
    const root = settingChain(dir, 3);
    await upgrade("head", { url, dir: root });
    assert.deepEqual(await settingsSeen(url, 3), ["off", "off", "on"]);
  });
  await withTempDir(async (dir) => {
    // A fresh database for the second chain: the same table names.
    const root = settingChain(dir, 3);
    const admin = openConnection(url);
    try {
      await admin.execute("DROP TABLE sc1, sc2, sc3, alembic_version, strata_log");
    } finally {
      await admin.close();
    }
    await upgrade("head", { url, dir: root, flushEachCommit: true });
    assert.deepEqual(await settingsSeen(url, 3), ["on", "on", "on"]);
  });
});

pgTest("a run that fails after deferred commits flushes them before it returns", async (url) => {
  await withTempDir(async (dir) => {
    const root = settingChain(dir, 3, "SELECT * FROM no_such_table;");
    await assert.rejects(upgrade("head", { url, dir: root }), /no_such_table/);
    assert.deepEqual(await settingsSeen(url, 2), ["off", "off"]);
    // The flush is a synchronous commit that rewrites the last deferred migration's log row
    // (same values): that row is now a newer version than the version row written with it.
    const [row] = await query<{ rewritten: boolean }>(
      url,
      `SELECT (SELECT xmin::text FROM strata_log WHERE revision = '${revisionId(2)}') <>
              (SELECT xmin::text FROM alembic_version) AS rewritten`,
    );
    assert.equal(row.rewritten, true, "the deferred commits were flushed");
    const log = await query<{ duration_ms: number }>(
      url,
      `SELECT duration_ms FROM strata_log WHERE revision = '${revisionId(2)}'`,
    );
    assert.equal(log.length, 1, "the rewrite added no row");
  });
});

pgTest("with each commit waiting, a failed run has nothing left to flush", async (url) => {
  await withTempDir(async (dir) => {
    const root = settingChain(dir, 3, "SELECT * FROM no_such_table;");
    await assert.rejects(
      upgrade("head", { url, dir: root, flushEachCommit: true }),
      /no_such_table/,
    );
    const [row] = await query<{ same: boolean }>(
      url,
      `SELECT (SELECT xmin::text FROM strata_log WHERE revision = '${revisionId(2)}') =
              (SELECT xmin::text FROM alembic_version) AS same`,
    );
    assert.equal(row.same, true);
  });
});

pgTest("a migration sent in one round trip logs the time it took", async (url) => {
  await withTempDir(async (dir) => {
    const root = settingChain(dir, 2, "SELECT pg_sleep(0.3);");
    await upgrade("head", { url, dir: root });
    const [row] = await query<{ duration_ms: number; started_at: string; finished_at: string }>(
      url,
      `SELECT duration_ms, started_at, finished_at FROM strata_log
        WHERE revision = '${revisionId(2)}'`,
    );
    assert.ok(row.duration_ms >= 300, `duration_ms ${row.duration_ms}`);
    assert.ok(row.duration_ms < 5_000, `duration_ms ${row.duration_ms}`);
    const span = Date.parse(row.finished_at) - Date.parse(row.started_at);
    assert.ok(Math.abs(span - row.duration_ms) <= 2, `${row.started_at} .. ${row.finished_at}`);
    assert.match(row.finished_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});

/** End the run's own session (not its lock session) once `ms` have passed. */
async function killRunSessionAfter(url: string, ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
  await query(
    url,
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity " +
      "WHERE application_name = 'strata' AND datname = current_database() " +
      "AND pid <> pg_backend_pid()",
  );
}

pgTest("a session ended mid-migration is not replaced: nothing of it commits", async (url) => {
  await withTempDir(async (dir) => {
    // More statements than the driver sends at once: it holds the rest back, and used to run
    // them (and the version change) on a new session after the old one closed.
    const creates = Array.from({ length: 150 }, (_, i) => `CREATE TABLE x${i} (id INTEGER);`);
    const root = settingChain(dir, 2, ["SELECT pg_sleep(2);", ...creates].join("\n"));
    const run = upgrade("head", { url, dir: root }).then(() => null, (e: Error) => e);
    await killRunSessionAfter(url, 1_000);
    assert.ok((await run) instanceof Error, "the run failed");
    const versions = await query<{ version_num: string }>(
      url,
      "SELECT version_num FROM alembic_version",
    );
    assert.deepEqual(versions.map((r) => r.version_num), [revisionId(1)]);
    const [tables] = await query<{ n: number }>(
      url,
      "SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE 'x%'",
    );
    assert.equal(tables.n, 0, "no statement of the migration ran elsewhere");
    const log = await query<{ revision: string }>(url, "SELECT revision FROM strata_log");
    assert.deepEqual(log.map((r) => r.revision), [revisionId(1)]);
  });
});

pgTest(
  "a TypeScript migration whose session ends half way fails, and leaves nothing",
  async (url) => {
    await withTempDir(async (dir) => {
      const root = path.join(dir, "migrations");
      writeFiles(path.join(root, "postgresql"), {
        [`2026_01_01_000001_${revisionId(1)}_halves.ts`]: `export const revision = "${
          revisionId(1)
        }";
export const downRevision = null;
export async function upgrade({ op }) {
  await op.execute("CREATE TABLE first_half (id INTEGER)");
  await new Promise((r) => setTimeout(r, 1500));
  await op.execute("CREATE TABLE second_half (id INTEGER)");
}
`,
      });
      const run = upgrade("head", { url, dir: root });
      await killRunSessionAfter(url, 700);
      await assert.rejects(run, /closed by the server or the network/);
      const [tables] = await query<{ n: number }>(
        url,
        "SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE '%_half'",
      );
      assert.equal(tables.n, 0);
      const versions = await query(url, "SELECT version_num FROM alembic_version");
      assert.deepEqual(versions, []);
    });
  },
);

pgTest("the run's last commit waits even when its migration says otherwise", async (url) => {
  await withTempDir(async (dir) => {
    const root = settingChain(dir, 1);
    await upgrade("head", { url, dir: root });
    // What each commit runs under, seen by a trigger on the log row strata inserts last.
    const admin = openConnection(url);
    try {
      await admin.execute("CREATE TABLE commit_setting (revision TEXT, v TEXT)");
      await admin.execute(
        "CREATE FUNCTION record_setting() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN " +
          "INSERT INTO commit_setting VALUES (NEW.revision, " +
          "current_setting('synchronous_commit')); RETURN NEW; END $$",
      );
      await admin.execute(
        "CREATE TRIGGER record_setting AFTER INSERT ON strata_log " +
          "FOR EACH ROW EXECUTE FUNCTION record_setting()",
      );
    } finally {
      await admin.close();
    }
    const more: Record<string, string> = {};
    const ups = [
      "SET synchronous_commit = off;", // for the session: later commits must not inherit it
      "CREATE TABLE m3 (id INTEGER);",
      "SET LOCAL synchronous_commit = off;",
    ];
    for (const [k, up] of ups.entries()) {
      const i = k + 2;
      more[`2026_01_01_00000${i}_${revisionId(i)}_step_${i}.sql`] = sqlMigration(
        revisionId(i),
        revisionId(i - 1),
        up,
      );
    }
    writeFiles(path.join(root, "postgresql"), more);
    await upgrade("head", { url, dir: root });
    const seen = await query<{ revision: string; v: string }>(
      url,
      "SELECT revision, v FROM commit_setting ORDER BY revision",
    );
    assert.deepEqual(seen.map((r) => r.v), ["off", "off", "on"]);
  });
});

pgTest("a TypeScript migration's logged duration covers all of it", async (url) => {
  await withTempDir(async (dir) => {
    const root = path.join(dir, "migrations");
    writeFiles(path.join(root, "postgresql"), {
      [`2026_01_01_000001_${revisionId(1)}_late.ts`]: `export const revision = "${revisionId(1)}";
export const downRevision = null;
export async function upgrade({ op }) {
  await new Promise((r) => setTimeout(r, 500));
  await op.execute("CREATE TABLE late (id INTEGER)");
}
`,
    });
    await upgrade("head", { url, dir: root });
    const [row] = await query<{ duration_ms: number }>(url, "SELECT duration_ms FROM strata_log");
    assert.ok(row.duration_ms >= 450, `duration_ms ${row.duration_ms}`);
  });
});

pgTest("a failure at COMMIT is named as the COMMIT's", async (url) => {
  await withTempDir(async (dir) => {
    const root = settingChain(
      dir,
      1,
      "CREATE TABLE p (id INTEGER PRIMARY KEY);\n" +
        "CREATE TABLE c (pid INTEGER REFERENCES p DEFERRABLE INITIALLY DEFERRED);\n" +
        "INSERT INTO c VALUES (42);",
    );
    const error = await upgrade("head", { url, dir: root }).then(
      () => assert.fail("the upgrade succeeded"),
      (e) => e,
    );
    assert.match(String(error.message), /foreign key/);
    assert.equal(error.statement, "COMMIT");
    assert.deepEqual(
      await query(url, "SELECT tablename FROM pg_tables WHERE tablename = 'alembic_version'"),
      [],
    );
  });
});

pgTest("a migration sent behind one that fails at COMMIT runs nothing", async (url) => {
  await withTempDir(async (dir) => {
    // The second fails only when it commits; the third was sent before that answer came.
    const root = chainOf(dir, [
      "CREATE TABLE p (id INTEGER PRIMARY KEY);",
      "CREATE TABLE c (pid INTEGER REFERENCES p DEFERRABLE INITIALLY DEFERRED);\n" +
      "INSERT INTO c VALUES (42);",
      "CREATE TABLE t3 (id INTEGER);",
      "CREATE TABLE t4 (id INTEGER);",
    ]);
    const error = await upgrade("head", { url, dir: root }).then(
      () => assert.fail("the upgrade succeeded"),
      (e) => e,
    );
    assert.ok(error instanceof MigrationError, String(error));
    assert.equal(error.revision, revisionId(2));
    assert.match(error.message, /foreign key/);
    assert.deepEqual(
      error.results.map((r: { status: string }) => r.status),
      ["applied", "failed", "not run", "not run"],
    );
    const versions = await query<{ version_num: string }>(
      url,
      "SELECT version_num FROM alembic_version",
    );
    assert.deepEqual(versions.map((r) => r.version_num), [revisionId(1)]);
    const tables = await query<{ tablename: string }>(
      url,
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename IN " +
        "('c', 't3', 't4') ORDER BY tablename",
    );
    assert.deepEqual(tables, []);
    const log = await query<{ revision: string }>(url, "SELECT revision FROM strata_log");
    assert.deepEqual(log.map((r) => r.revision), [revisionId(1)]);
  });
});

pgTest("a failing statement in a pipelined chain stops it where it failed", async (url) => {
  await withTempDir(async (dir) => {
    const root = chainOf(dir, [
      "CREATE TABLE t1 (id INTEGER);",
      "CREATE TABLE t2 (id INTEGER);",
      "CREATE TABLE t3 (id INTEGER);\nINSERT INTO missing VALUES (1);",
      "CREATE TABLE t4 (id INTEGER);",
      "CREATE TABLE t5 (id INTEGER);",
    ]);
    const events: string[] = [];
    const error = await upgrade("head", {
      url,
      dir: root,
      onEvent: (e) => e.type === "step" && events.push(e.step.revision.revision),
    }).then(() => assert.fail("the upgrade succeeded"), (e) => e);
    assert.equal(error.revision, revisionId(3));
    assert.equal(error.statement, "INSERT INTO missing VALUES (1)");
    assert.equal(error.line, 7);
    assert.deepEqual(events, [revisionId(1), revisionId(2)], "steps reported in order");
    assert.deepEqual(
      error.results.map((r: { status: string }) => r.status),
      ["applied", "applied", "failed", "not run", "not run"],
    );
    const tables = await query<{ tablename: string }>(
      url,
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 't_' " +
        "ORDER BY tablename",
    );
    assert.deepEqual(tables.map((r) => r.tablename), ["t1", "t2"]);
    // The connection is left usable and idle: the next run completes the chain.
    writeFiles(
      path.join(root, "postgresql"),
      {
        [`2026_01_01_000003_${revisionId(3)}_step_3.sql`]: sqlMigration(
          revisionId(3),
          revisionId(2),
          "CREATE TABLE t3 (id INTEGER);",
        ),
      },
    );
    const result = await upgrade("head", { url, dir: root });
    assert.deepEqual(result.after, [revisionId(5)]);
  });
});

pgTest("a migration sent behind a slow one is logged when it ran", async (url) => {
  await withTempDir(async (dir) => {
    const root = chainOf(dir, [
      "SELECT pg_sleep(0.5);",
      "CREATE TABLE t2 (id INTEGER);",
      "CREATE TABLE t3 (id INTEGER);",
    ]);
    const before = Date.now();
    await upgrade("head", { url, dir: root });
    const after = Date.now();
    const rows = await query<{ revision: string; started_at: string; finished_at: string }>(
      url,
      "SELECT revision, started_at, finished_at FROM strata_log ORDER BY revision",
    );
    const times = rows.map((r) => [Date.parse(r.started_at), Date.parse(r.finished_at)]);
    for (const [i, [start, finish]] of times.entries()) {
      assert.ok(start >= before - 5 && finish <= after + 5, `row ${i} within the run`);
      assert.ok(finish >= start, `row ${i} ends after it starts`);
      // On the client's clock, each started once the one ahead had committed.
      if (i > 0) assert.ok(start >= times[i - 1][1] - 2, JSON.stringify(rows));
    }
    assert.ok(times[0][1] - times[0][0] >= 450, "the sleep is in the first row");
  });
});

pgTest("a session the server ends while the run waits for the lock is reopened", async (url) => {
  await withTempDir(async (dir) => {
    const root = chainOf(dir, [
      "CREATE TABLE t1 (id INTEGER);",
      "SELECT pg_sleep(2.5);\nCREATE TABLE t2 (id INTEGER);",
    ]);
    const name = new URL(url).pathname.slice(1);
    const admin = openConnection(url);
    try {
      await admin.execute(`ALTER DATABASE ${name} SET idle_session_timeout = '800ms'`);
    } finally {
      await admin.close();
    }
    const first = upgrade("head", { url, dir: root });
    await new Promise((r) => setTimeout(r, 400));
    // Waits on the advisory lock while its own session idles past the server's timeout.
    const second = await upgrade("head", { url, dir: root });
    await first;
    assert.deepEqual(second.after, [revisionId(2)]);
    assert.deepEqual(second.steps, []);
  });
});

pgTest("a lock session reopened while waiting still outlives the idle timeout", async (url) => {
  await withTempDir(async (dir) => {
    const root = chainOf(dir, [
      "SELECT pg_sleep(2);",
      "SELECT pg_sleep(1.8);\nCREATE TABLE t2 (id INTEGER);",
    ]);
    const name = new URL(url).pathname.slice(1);
    await query(url, `ALTER DATABASE ${name} SET idle_session_timeout = '1s'`);
    const first = upgrade(revisionId(1), { url, dir: root });
    await new Promise((r) => setTimeout(r, 300));
    // Another process, so that it waits on the advisory lock (not this process's mutex).
    const second = runCli(RUNTIMES[0], ["--url", url, "--dir", root, "upgrade", "head"]);
    await new Promise((r) => setTimeout(r, 900));
    // Its lock session, still waiting: the server ends it, the driver reopens it.
    const killed = await query(
      url,
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity " +
        "WHERE application_name = 'strata (lock)' AND datname = current_database() " +
        "AND pid NOT IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)",
    );
    assert.equal(killed.length, 1, "the waiting lock session was there");
    await first;
    // Then it takes the lock and holds it, idle, through a migration longer than the timeout.
    const result = await second;
    assert.equal(result.code, 0, result.stderr);
    const versions = await query<{ version_num: string }>(
      url,
      "SELECT version_num FROM alembic_version",
    );
    assert.deepEqual(versions.map((r) => r.version_num), [revisionId(2)]);
  });
});

pgTest("a --sql script's log rows all carry the time the script was made", async (url) => {
  await withTempDir(async (dir) => {
    const root = chainOf(dir, ["CREATE TABLE t1 (id INTEGER);", "CREATE TABLE t2 (id INTEGER);"]);
    const sql: string[] = [];
    await upgrade("head", {
      url,
      dir: root,
      sql: true,
      onEvent: (e) => e.type === "sql" && sql.push(e.text),
    });
    const inserts = sql.filter((line) => line.startsWith("INSERT INTO strata_log"));
    assert.equal(inserts.length, 2);
    for (const line of inserts) {
      assert.doesNotMatch(line, /clock_timestamp|now\(\)/, "one clock for the script's rows");
      assert.match(line, /'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z', '\d{4}-/);
    }
  });
});

pgTest(
  "a waiting lock session the server ends in the middle of a poll is opened again",
  async (url) => {
    const holder = openConnection(url);
    const waiting = openConnection(url);
    try {
      const held = await acquireAdvisoryLock(holder, {
        versionTable: "alembic_version",
        timeoutMs: 5000,
      });
      let ended: string | null = null;
      // The real session, but its first poll goes out just after the server was told to end it.
      const ending: Connection = {
        dialect: waiting.dialect,
        displayUrl: waiting.displayUrl,
        execute: (text, params) => waiting.execute(text, params),
        executeBatch: (statements, onSent) => waiting.executeBatch(statements, onSent),
        executeScript: (text) => waiting.executeScript(text),
        close: () => waiting.close(),
        pin: () => waiting.pin?.(),
        query: async (text, params) => {
          if (ended === null && text.includes("pg_try_advisory_lock")) {
            const [{ pid }] = await waiting.query<{ pid: number }>(
              "SELECT pg_backend_pid() AS pid",
            );
            await query(url, `SELECT pg_terminate_backend(${pid})`);
            ended = String(pid);
            return await waiting.query(text, params);
          }
          return await waiting.query(text, params);
        },
      };
      // Awaited below: a release that fails is this test's failure, not a stray rejection.
      const releasing = new Promise((r) => setTimeout(r, 300)).then(() => held.release());
      const lock = await acquireAdvisoryLock(ending, {
        versionTable: "alembic_version",
        timeoutMs: 5000,
      });
      await releasing;
      assert.notEqual(ended, null);
      const [{ pid }] = await waiting.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      assert.notEqual(String(pid), ended, "a new session holds the lock");
      await lock.release();
    } finally {
      await holder.close();
      await waiting.close();
    }
  },
);

pgTest(
  "a session reset with a migration queued behind the running one fails the run, and frees the lock",
  async (url) => {
    await withTempDir(async (dir) => {
      const root = chainOf(dir, [
        "CREATE TABLE rs_one (id INTEGER);",
        "SELECT pg_sleep(3);",
        "CREATE TABLE rs_three (id INTEGER);",
      ]);
      const run = upgrade("head", { url, dir: root }).then(() => null, (e: Error) => e);
      await killRunSessionAfter(url, 1_000);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const outcome = await Promise.race([
        run,
        new Promise<"hung">((r) => timer = setTimeout(() => r("hung"), 15_000)),
      ]);
      clearTimeout(timer);
      assert.ok(outcome instanceof Error, `the run failed rather than hanging: ${outcome}`);
      assert.match(outcome.message, /closed by the server or the network/);
      const versions = await query<{ version_num: string }>(
        url,
        "SELECT version_num FROM alembic_version",
      );
      assert.deepEqual(versions.map((r) => r.version_num), [revisionId(1)]);
      // The advisory lock went with the run: the next one completes.
      await upgrade("head", { url, dir: root, lockTimeoutMs: 5_000 });
    });
  },
);
