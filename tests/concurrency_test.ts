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
import { dialectTest, linearChain, revisionId } from "./support/databases.ts";
import { CLI, runCli, RUNTIMES } from "./support/runtimes.ts";

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
