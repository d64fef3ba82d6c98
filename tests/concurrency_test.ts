/**
 * Concurrent runs and crashes, on real databases: ten processes (half Deno, half Bun) upgrading
 * one database at once, ten library calls in one process, and `kill -9` in the middle of a
 * long migration followed by a rerun.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { upgrade } from "../lib/migrate.ts";
import { dialectTest, linearChain, revisionId, sqlMigration } from "./support/databases.ts";
import { pgTest } from "./support/pg.ts";
import { openConnection } from "../lib/db/open.ts";
import { CLI, runCli, RUNTIMES } from "./support/runtimes.ts";
import { writeFiles } from "./support/tmp.ts";

const CHAIN_LENGTH = 12;

async function appliedCounts(
  db: { query: <T>(sql: string) => Promise<T[]> },
): Promise<Map<string, number>> {
  const rows = await db.query<{ revision: string; n: number }>(
    "SELECT revision, count(*) AS n FROM strata_log WHERE outcome = 'applied' GROUP BY revision",
  );
  return new Map(rows.map((r) => [r.revision, Number(r.n)]));
}

dialectTest("ten processes upgrading at once apply each migration exactly once", async (db) => {
  db.write(linearChain(CHAIN_LENGTH));
  const runtimes = RUNTIMES.filter((r) => r.command !== null);
  if (Deno.env.get("CI")) assert.equal(runtimes.length, 2, "both Deno and Bun are needed in CI");
  const runs = Array.from({ length: 10 }, (_, i) =>
    runCli(runtimes[i % runtimes.length], [
      "--url",
      db.url,
      "--dir",
      db.migrations,
      "--lock-timeout",
      "120",
      "upgrade",
      "head",
    ]));
  const results = await Promise.all(runs);
  for (const [i, result] of results.entries()) {
    assert.equal(result.code, 0, `process ${i} failed: ${result.stderr}`);
  }
  const counts = await appliedCounts(db);
  assert.equal(counts.size, CHAIN_LENGTH);
  for (const [revision, n] of counts) assert.equal(n, 1, `${revision} applied ${n} times`);
  assert.deepEqual(await db.versions(), [revisionId(CHAIN_LENGTH)]);
  const saidApplied = results.filter((r) => /migrations? applied/.test(r.stdout)).length;
  assert.equal(saidApplied >= 1, true);
  assert.equal(results.filter((r) => /nothing to do/.test(r.stdout)).length, 10 - saidApplied);
});

dialectTest("ten concurrent library calls in one process apply each migration once", async (db) => {
  db.write(linearChain(CHAIN_LENGTH));
  const results = await Promise.all(
    Array.from({ length: 10 }, () => upgrade("head", { url: db.url, dir: db.migrations })),
  );
  const applied = results.flatMap((r) => r.steps.filter((s) => s.status === "applied"));
  assert.equal(applied.length, CHAIN_LENGTH);
  for (const result of results) assert.deepEqual(result.after, [revisionId(CHAIN_LENGTH)]);
  const counts = await appliedCounts(db);
  for (const [, n] of counts) assert.equal(n, 1);
});

dialectTest("kill -9 during a migration leaves nothing; the rerun completes", async (db) => {
  db.write(linearChain(1));
  const marker = path.join(db.dir, "started");
  db.write({
    [`2026_01_01_000002_${revisionId(2)}_slow.ts`]: `
import * as fs from "node:fs";
export const revision = "${revisionId(2)}";
export const downRevision = "${revisionId(1)}";
export async function upgrade({ op, t }) {
  await op.createTable("t2", [{ name: "id", type: t.integer(), primaryKey: true }]);
  await op.execute("INSERT INTO t1 (id, note) VALUES (2, 'half way')");
  if (!fs.existsSync(${JSON.stringify(marker)})) {
    fs.writeFileSync(${JSON.stringify(marker)}, "1");
    await new Promise((resolve) => setTimeout(resolve, 60_000));
  }
}
export async function downgrade({ op }) { await op.dropTable("t2"); }
`,
  });
  const deno = RUNTIMES[0].command!;
  const child = spawn(deno[0], [
    ...deno.slice(1),
    CLI,
    "--url",
    db.url,
    "--dir",
    db.migrations,
    "upgrade",
  ], { stdio: "ignore" });
  const deadline = Date.now() + 30_000;
  while (!fs.existsSync(marker)) {
    if (Date.now() > deadline) throw new Error("the slow migration never started");
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGKILL");
  await new Promise((r) => child.on("close", r));
  if (db.dialect === "sqlite") {
    const lockfile = `${db.url.slice("sqlite:".length)}.lock`;
    assert.ok(fs.existsSync(lockfile), "the killed process left its lockfile");
  }
  assert.deepEqual(await db.versions(), [revisionId(1)], "the killed migration did not commit");

  const rerun = await runCli(RUNTIMES[0], ["--url", db.url, "--dir", db.migrations, "upgrade"]);
  assert.equal(rerun.code, 0, rerun.stderr);
  if (db.dialect === "sqlite") assert.match(rerun.stderr, /reclaimed a stale lock left by pid/);
  assert.deepEqual(await db.versions(), [revisionId(2)]);
  const rows = await db.query<{ n: number }>("SELECT count(*) AS n FROM t1");
  assert.equal(Number(rows[0].n), 2, "the rerun inserted the row once: the killed run left none");
});

/** A chain whose second migration waits (once) until `release` exists, after writing `marker`. */
function slowChain(db: { write(files: Record<string, string>): void }, dir: string) {
  const marker = path.join(dir, "started");
  const release = path.join(dir, "release");
  db.write(linearChain(1));
  db.write({
    [`2026_01_01_000002_${revisionId(2)}_slow.ts`]: `
import * as fs from "node:fs";
export const revision = "${revisionId(2)}";
export const downRevision = "${revisionId(1)}";
export async function upgrade({ op }) {
  await op.execute("INSERT INTO t1 (id, note) VALUES (2, 'half way')");
  fs.writeFileSync(${JSON.stringify(marker)}, "1");
  while (!fs.existsSync(${JSON.stringify(release)})) await new Promise((r) => setTimeout(r, 20));
}
`,
  });
  return { marker, release };
}

async function waitFor(file: string, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!fs.existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`${what} never happened`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

dialectTest("SIGTERM during a migration: nothing committed, no lockfile left", async (db) => {
  const { marker } = slowChain(db, db.dir);
  const deno = RUNTIMES[0].command!;
  const lockFile = path.join(db.dir, "pg.lock");
  const args = ["--url", db.url, "--dir", db.migrations, "upgrade"];
  if (db.dialect === "postgresql") args.unshift("--lock-file", lockFile);
  const child = new Deno.Command(deno[0], {
    args: [...deno.slice(1), CLI, ...args],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  await waitFor(marker, "the slow migration");
  const sqliteLock = `${db.url.slice("sqlite:".length)}.lock`;
  const held = db.dialect === "sqlite" ? sqliteLock : lockFile;
  assert.ok(fs.existsSync(held), "the run holds its lockfile");
  child.kill("SIGTERM");
  const { code, stderr } = await child.output();
  assert.equal(code, 143, "exits as SIGTERM would, after its handler ran");
  assert.match(new TextDecoder().decode(stderr), /SIGTERM, stopped/);
  assert.ok(!fs.existsSync(held), "the lockfile is gone");
  assert.deepEqual(
    await db.versions(),
    [revisionId(1)],
    "the interrupted migration did not commit",
  );
  const rows = await db.query<{ n: number }>("SELECT count(*) AS n FROM t1");
  assert.equal(Number(rows[0].n), 1);
});

Deno.test({
  name: "[sqlite] two spellings of one database file (a symlink) share one lock",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = fs.mkdtempSync(path.join(Deno.makeTempDirSync(), "spell-"));
    const real = path.join(dir, "real");
    fs.mkdirSync(real);
    const file = path.join(real, "app.db");
    fs.symlinkSync(file, path.join(dir, "link.db"));
    const chain = { write: (files: Record<string, string>) => writeFiles(migrations, files) };
    const migrations = path.join(dir, "migrations", "sqlite");
    const { marker, release } = slowChain(chain, dir);
    const first = upgrade("head", { url: `sqlite:${file}`, dir: path.dirname(migrations) });
    await waitFor(marker, "the slow migration");
    // The same file through the symlink: must wait for the first run, then find nothing to do.
    const second = upgrade("head", {
      url: `sqlite:${path.join(dir, "link.db")}`,
      dir: path.dirname(migrations),
      lockTimeoutMs: 30_000,
    });
    await new Promise((r) => setTimeout(r, 300));
    fs.writeFileSync(release, "1");
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a.steps.length, 2);
    assert.equal(b.steps.length, 0, "the second run found the database at head");
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  },
});

/** A PostgreSQL chain: a migration that sleeps, then a quick one. */
function sleepingPgChain(root: string, seconds: number): void {
  writeFiles(path.join(root, "postgresql"), {
    [`2026_01_01_000001_${revisionId(1)}_slow.sql`]: sqlMigration(
      revisionId(1),
      null,
      `CREATE TABLE t1 (id INTEGER PRIMARY KEY);\nSELECT pg_sleep(${seconds});`,
    ),
    [`2026_01_01_000002_${revisionId(2)}_quick.sql`]: sqlMigration(
      revisionId(2),
      revisionId(1),
      "CREATE TABLE t2 (id INTEGER PRIMARY KEY);",
    ),
  });
}

/** Another process upgrading the same database must time out on the advisory lock. */
async function assertAnotherRunWaits(url: string, root: string): Promise<void> {
  const second = await runCli(RUNTIMES[0], [
    "--url",
    url,
    "--dir",
    root,
    "--lock-timeout",
    "0.3",
    "upgrade",
  ]);
  assert.equal(second.code, 1, second.stderr);
  assert.match(second.stderr, /PostgreSQL advisory lock/);
}

pgTest("the advisory lock outlives the server's idle_session_timeout", async (url) => {
  const root = Deno.makeTempDirSync({ prefix: "strata-idle-" });
  try {
    sleepingPgChain(root, 3);
    const admin = openConnection(url);
    const name = new URL(url).pathname.slice(1);
    await admin.execute(`ALTER DATABASE ${name} SET idle_session_timeout = '1s'`);
    await admin.close();
    const first = upgrade("head", { url, dir: root });
    await new Promise((r) => setTimeout(r, 2000));
    // Another process, while the lock session has been idle for more than a second.
    await assertAnotherRunWaits(url, root);
    const result = await first;
    assert.deepEqual(result.after, [revisionId(2)]);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

pgTest(
  "a lost advisory lock stops the run: the migration under way does not commit",
  async (url) => {
    const root = Deno.makeTempDirSync({ prefix: "strata-lost-" });
    try {
      sleepingPgChain(root, 1.5);
      const run = upgrade("head", { url, dir: root });
      await new Promise((r) => setTimeout(r, 700));
      const admin = openConnection(url);
      await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity " +
          "WHERE application_name = 'strata (lock)' AND datname = current_database()",
      );
      await admin.close();
      await assert.rejects(run, /lost the PostgreSQL advisory lock.*not committed/);
      const check = openConnection(url);
      const tables = await check.query<{ t: string }>(
        "SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema()",
      );
      await check.close();
      // The lock went while the first migration slept: its commit was refused in its own
      // transaction, so it left nothing (not even the bookkeeping tables made for it) and the
      // second never started.
      assert.deepEqual(tables, [], "the first migration was not committed");
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  },
);

pgTest("the advisory lock key follows the version table, not the session's schema", async (url) => {
  const root = Deno.makeTempDirSync({ prefix: "strata-schema-" });
  try {
    sleepingPgChain(root, 2.5);
    const first = upgrade("head", { url, dir: root });
    await new Promise((r) => setTimeout(r, 800));
    // New sessions now resolve names in s2 first (as a migration creating a schema named after
    // the user does): the version table is still the one in public.
    const admin = openConnection(url);
    const name = new URL(url).pathname.slice(1);
    await admin.execute("CREATE SCHEMA s2");
    await admin.execute(`ALTER DATABASE ${name} SET search_path = s2, public`);
    await admin.close();
    await assertAnotherRunWaits(url, root);
    assert.deepEqual((await first).after, [revisionId(2)]);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
