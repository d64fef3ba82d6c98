/**
 * PostgreSQL runs where a migration steps outside strata's transaction: a COMMIT hidden in a
 * TypeScript migration's multi-statement text, RESET ALL, a non-transactional migration's
 * timeouts, and a non-transactional migration that fails inside a transaction it opened.
 */

import assert from "node:assert/strict";
import * as path from "node:path";
import { upgrade } from "../lib/migrate.ts";
import { revisionId, sqlMigration } from "./support/databases.ts";
import { pgTest, queryOnce } from "./support/pg.ts";
import { withTempDir, writeFiles } from "./support/tmp.ts";

const query = queryOnce;

async function tablesLike(url: string, pattern: string): Promise<string[]> {
  const rows = await query<{ t: string }>(
    url,
    `SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema() ` +
      `AND tablename LIKE '${pattern}' ORDER BY 1`,
  );
  return rows.map((r) => r.t);
}

/** A linear chain of `.sql` migrations (IDs `revisionId(1)`, ...); its migrations root. */
function sqlChain(
  dir: string,
  steps: readonly { slug: string; up: string; transactional?: boolean }[],
): string {
  const root = path.join(dir, "migrations");
  writeFiles(
    path.join(root, "postgresql"),
    Object.fromEntries(steps.map((step, k) => [
      `2026_01_01_00000${k + 1}_${revisionId(k + 1)}_${step.slug}.sql`,
      sqlMigration(revisionId(k + 1), k === 0 ? null : revisionId(k), step.up, null, {
        transactional: step.transactional ?? true,
      }),
    ])),
  );
  return root;
}

function tsMigration(dir: string, body: string): string {
  const root = path.join(dir, "migrations");
  writeFiles(path.join(root, "postgresql"), {
    [`2026_01_01_000001_${revisionId(1)}_ts.ts`]: `export const revision = "${revisionId(1)}";
export const downRevision = null;
export async function upgrade({ op }) {
${body}
}
`,
  });
  return root;
}

pgTest(
  "a COMMIT inside a TypeScript migration's text is refused before anything runs",
  async (url) => {
    await withTempDir(async (dir) => {
      const root = tsMigration(
        dir,
        `await op.execute("CREATE TABLE tx_x (id int); COMMIT; CREATE TABLE tx_y (id int)");
       await op.execute("CREATE TABLE tx_z (id int)");`,
      );
      await assert.rejects(
        upgrade("head", { url, dir: root }),
        /cannot end or begin its own transaction/,
      );
      assert.deepEqual(await tablesLike(url, "tx\\_%"), []);
      assert.deepEqual(await tablesLike(url, "alembic%"), []);
    });
  },
);

pgTest("RESET ALL in a transactional migration is refused, and says why", async (url) => {
  await withTempDir(async (dir) => {
    const root = sqlChain(dir, [
      { slug: "reset", up: "SET search_path = public;\nCREATE TABLE rs_a (id int);\nRESET ALL;" },
    ]);
    await assert.rejects(upgrade("head", { url, dir: root }), /cannot reset the whole session/);
    assert.deepEqual(await tablesLike(url, "rs\\_%"), []);
  });
});

pgTest("a non-transactional migration runs under the run's timeouts, reset after", async (url) => {
  await withTempDir(async (dir) => {
    const root = sqlChain(dir, [
      {
        slug: "seen",
        up: "CREATE TABLE nt_seen AS SELECT current_setting('statement_timeout') AS st, " +
          "current_setting('lock_timeout') AS lt;",
        transactional: false,
      },
      { slug: "slow", up: "SELECT pg_sleep(2);", transactional: false },
    ]);
    const events: { type: string; text?: string }[] = [];
    await upgrade(revisionId(1), {
      url,
      dir: root,
      statementTimeoutMs: 1_500,
      lockWaitTimeoutMs: 700,
      sql: true,
      onEvent: (e) => events.push(e as { type: string; text?: string }),
    });
    const printed = events.flatMap((e) => e.type === "sql" && e.text ? [e.text] : []);
    assert.ok(printed.includes("SET statement_timeout = '1500ms';"), printed.join("\n"));
    assert.ok(printed.includes("RESET lock_timeout;"), printed.join("\n"));
    await upgrade(revisionId(1), {
      url,
      dir: root,
      statementTimeoutMs: 1_500,
      lockWaitTimeoutMs: 700,
    });
    assert.deepEqual(await query(url, "SELECT st, lt FROM nt_seen"), [{
      st: "1500ms",
      lt: "700ms",
    }]);
    await assert.rejects(
      upgrade("head", { url, dir: root, statementTimeoutMs: 500 }),
      /statement timeout/,
    );
  });
});

pgTest(
  "a non-transactional migration failing inside its own BEGIN is logged partial",
  async (url) => {
    await withTempDir(async (dir) => {
      const root = sqlChain(dir, [
        { slug: "first", up: "CREATE TABLE nb_first (id int);" },
        {
          slug: "own_begin",
          up:
            "CREATE TABLE nb_committed (id int);\nBEGIN;\nCREATE TABLE nb_rolled_back (id int);\n" +
            "SELECT 1/0;\nCOMMIT;",
          transactional: false,
        },
      ]);
      const warnings: string[] = [];
      await assert.rejects(
        upgrade("head", {
          url,
          dir: root,
          onEvent: (e) => {
            if (e.type === "warning") warnings.push(e.message);
          },
        }),
        /division by zero/,
      );
      assert.deepEqual(warnings, [], "the earlier migration's commit was flushed without a fuss");
      assert.deepEqual(await tablesLike(url, "nb\\_%"), ["nb_committed", "nb_first"]);
      const log = await query<{ revision: string; outcome: string }>(
        url,
        "SELECT revision, outcome FROM strata_log ORDER BY started_at, revision",
      );
      assert.deepEqual(log.map((r) => [r.revision, r.outcome]), [
        [revisionId(1), "applied"],
        [revisionId(2), "partial"],
      ]);
    });
  },
);

pgTest("COPY ... FROM stdin in a .sql migration is refused before the run starts", async (url) => {
  await withTempDir(async (dir) => {
    const root = sqlChain(dir, [
      { slug: "first", up: "CREATE TABLE cp_first (id int);" },
      {
        slug: "dump",
        up:
          "CREATE TABLE cp_a (id int, note text);\nCOPY cp_a (id, note) FROM stdin;\n1\tone\n\\.\n",
      },
    ]);
    await assert.rejects(
      upgrade("head", { url, dir: root }),
      /dump\.sql:\d+: COPY \.\.\. FROM STDIN is not supported/,
    );
    assert.deepEqual(await tablesLike(url, "cp\\_%"), []);
  });
});

pgTest("a failed first migration leaves no bookkeeping tables behind", async (url) => {
  await withTempDir(async (dir) => {
    const root = sqlChain(dir, [
      { slug: "bad", up: "CREATE TABLE bk_made (id int);\nINSERT INTO no_such VALUES (1);" },
    ]);
    await assert.rejects(upgrade("head", { url, dir: root }), /no_such/);
    const left = await query<{ t: string }>(
      url,
      "SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema()",
    );
    assert.deepEqual(left, []);
  });
});

pgTest(
  "a version table name PostgreSQL would cut, or an empty one, is refused up front",
  async (url) => {
    await withTempDir(async (dir) => {
      const root = sqlChain(dir, [
        { slug: "one", up: "CREATE TABLE vt_one (id int);" },
      ]);
      const long = "myapp_schema_migrations_version_table_for_the_billing_service_v2_x";
      await assert.rejects(
        upgrade("head", { url, dir: root, versionTable: long }),
        /at most 59 bytes/,
      );
      await assert.rejects(
        upgrade("head", { url, dir: root, versionTable: " " }),
        /empty version table/,
      );
      assert.deepEqual(await tablesLike(url, "%"), []);
      // 59 bytes is fine.
      await upgrade("head", { url, dir: root, versionTable: long.slice(0, 59) });
      assert.deepEqual(await tablesLike(url, "myapp%"), [long.slice(0, 59)]);
    });
  },
);
