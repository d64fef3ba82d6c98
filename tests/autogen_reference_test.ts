/**
 * Autogenerate against the reference schema: `schema.ts` describes exactly what each chain
 * builds (no drift on SQLite or PostgreSQL), a migration that loses one index is caught with
 * that index and nothing else, and `strata schema dump` prints a migrated database.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { checkDrift, NO_POSTGRES_SERVER } from "../lib/autogen/drift.ts";
import { locateProject } from "../lib/project.ts";
import type { DialectName } from "../lib/revision/revision.ts";
import { pgTest } from "./support/pg.ts";
import { ROOT, runCli, runtimeTest } from "./support/runtimes.ts";
import { withTempDir } from "./support/tmp.ts";

const MIGRATIONS = path.join(ROOT, "migrations");
const SCHEMA = path.join(ROOT, "schema.ts");

/** What to cut from a copy of the chains: one index, its creation and its drop. */
const LOST_INDEX: Record<DialectName, { file: RegExp; index: string; table: string }> = {
  // A dialect-specific index: `name COLLATE NOCASE` exists on SQLite only.
  sqlite: { file: /_add_name_search_indexes\.sql$/, index: "ix_flow__name_nocase", table: "flow" },
  // A covering, partial index: its INCLUDE exists on PostgreSQL only.
  postgresql: {
    file: /_add_scheduled_run_indexes\.ts$/,
    index: "ix_flow_run__scheduled_next_start",
    table: "flow_run",
  },
};

/** Remove an index's creation and its drop from a migration's text (`.sql` or `.ts`). */
function withoutIndex(text: string, index: string): string {
  const escaped = index.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const patterns = [
    new RegExp(`^CREATE INDEX ${escaped} ON [^\\n]*\\n`, "m"),
    new RegExp(`^DROP INDEX ${escaped};\\n`, "m"),
    new RegExp(`^ *await op\\.createIndex\\(\\s*"${escaped}",[\\s\\S]*?\\n  \\);\\n`, "m"),
    new RegExp(`^ *await op\\.dropIndex\\("${escaped}"[^\\n]*\\n`, "m"),
  ];
  let edited = text;
  let removed = 0;
  for (const pattern of patterns) {
    const next = edited.replace(pattern, "");
    if (next !== edited) removed++;
    edited = next;
  }
  assert.equal(removed, 2, `expected to remove the creation and the drop of ${index}`);
  assert.ok(!edited.includes(`"${index}"`) && !edited.includes(` ${index} `), edited);
  return edited;
}

/** A copy of the reference chains with one index cut from the dialect's chain. */
function copyWithoutIndex(dir: string, dialect: DialectName): string {
  const root = path.join(dir, "migrations");
  fs.cpSync(MIGRATIONS, root, { recursive: true });
  const { file, index } = LOST_INDEX[dialect];
  const chain = path.join(root, dialect);
  const target = fs.readdirSync(chain).find((name) => file.test(name));
  assert.ok(target, `no migration in ${chain} matches ${file}`);
  const full = path.join(chain, target);
  fs.writeFileSync(full, withoutIndex(fs.readFileSync(full, "utf8"), index));
  return root;
}

// ---------------------------------------------------------------------------------------------
// No drift

Deno.test("schema.ts matches the SQLite chain's head", async () => {
  const result = await checkDrift({
    location: locateProject({ dir: MIGRATIONS }),
    dialect: "sqlite",
  });
  assert.equal(result.skipped, undefined);
  assert.deepEqual(result.differences, []);
  assert.deepEqual(result.warnings, []);
  assert.equal(result.clean, true);
});

pgTest("schema.ts matches the PostgreSQL chain's head", async (url) => {
  const result = await checkDrift({
    location: locateProject({ dir: MIGRATIONS }),
    dialect: "postgresql",
    serverUrl: url,
  });
  assert.equal(result.skipped, undefined);
  assert.deepEqual(result.differences, []);
  assert.deepEqual(result.warnings, []);
  assert.equal(result.clean, true);
});

Deno.test("schema.ts matches the SQLite head with index expressions compared as text", async () => {
  const result = await checkDrift({
    location: locateProject({ dir: MIGRATIONS }),
    dialect: "sqlite",
    options: { compareIndexExpressions: true },
  });
  assert.deepEqual(result.differences, []);
});

// ---------------------------------------------------------------------------------------------
// A lost index is found, and only it

Deno.test("an index missing from the SQLite chain is the only drift", async () => {
  await withTempDir(async (dir) => {
    const root = copyWithoutIndex(dir, "sqlite");
    const result = await checkDrift({
      location: locateProject({ dir: root }),
      dialect: "sqlite",
      schemaPath: SCHEMA,
    });
    const { index, table } = LOST_INDEX.sqlite;
    assert.deepEqual(result.differences, [`add index ${index} on ${table}`]);
    assert.equal(result.clean, false);
  });
});

pgTest("an index missing from the PostgreSQL chain is the only drift", async (url) => {
  await withTempDir(async (dir) => {
    const root = copyWithoutIndex(dir, "postgresql");
    const result = await checkDrift({
      location: locateProject({ dir: root }),
      dialect: "postgresql",
      schemaPath: SCHEMA,
      serverUrl: url,
    });
    const { index, table } = LOST_INDEX.postgresql;
    assert.deepEqual(result.differences, [`add index ${index} on ${table}`]);
    assert.equal(result.clean, false);
  });
});

// ---------------------------------------------------------------------------------------------
// Nothing to compare with

Deno.test("checkDrift skips a project without schema.ts, and PostgreSQL without a server", async () => {
  await withTempDir(async (dir) => {
    const root = path.join(dir, "migrations");
    fs.cpSync(MIGRATIONS, root, { recursive: true });
    const none = await checkDrift({ location: locateProject({ dir: root }), dialect: "sqlite" });
    assert.match(none.skipped ?? "", /no schema definition at .*schema\.ts/);
    assert.equal(none.clean, true);

    const pg = await checkDrift({
      location: locateProject({ dir: root }),
      dialect: "postgresql",
      schemaPath: SCHEMA,
    });
    assert.equal(pg.skipped, NO_POSTGRES_SERVER);
    assert.deepEqual(pg.differences, []);
  });
});

// ---------------------------------------------------------------------------------------------
// `strata schema dump` (registered in cli.ts by `registerSchemaCommands`)

runtimeTest("schema dump prints a migrated SQLite database as text and JSON", async (runtime) => {
  await withTempDir(async (dir) => {
    const url = `sqlite:${path.join(dir, "ref.db")}`;
    const global = ["--url", url, "--version-table", "ref_version"];
    const up = await runCli(runtime, [...global, "upgrade", "head"]);
    assert.equal(up.code, 0, up.stderr);

    const text = await runCli(runtime, [...global, "schema", "dump"]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^-- sqlite schema\n/);
    assert.match(text.stdout, /^table flow_run$/m);
    assert.match(text.stdout, /^ {2}index ix_flow__name_nocase \(\(name COLLATE NOCASE\)\)$/m);
    assert.doesNotMatch(text.stdout, /ref_version|strata_log/);

    const json = await runCli(runtime, [...global, "schema", "dump", "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const model = JSON.parse(json.stdout);
    assert.equal(model.dialect, "sqlite");
    const names = model.tables.map((t: { name: string }) => t.name);
    assert.ok(names.includes("flow") && names.includes("events"), names.join(", "));
    assert.ok(!names.includes("ref_version") && !names.includes("strata_log"));

    // The same database dumps to the same bytes.
    const again = await runCli(runtime, [...global, "schema", "dump"]);
    assert.equal(again.stdout, text.stdout);
  });
});
