/**
 * Autogenerate round trips through the real command line, one kind of change at a time.
 *
 * A temp project starts from a `schema.ts` (v0) and walks a chain of edits, each one kind of
 * change (add a table, add / alter / drop a column, add a foreign key, add an enum value, add a
 * partial, an INCLUDE and a GIN index, rename a column). Every step runs what a user runs:
 * `revision --autogenerate`, `upgrade head`, `check` (exit 0: no drift), then `downgrade -1`,
 * which must bring the introspected schema (`schema dump --json`) back to what it was before
 * the step, and `upgrade head` again for the next step.
 *
 * - SQLite alone (`--dialect sqlite`, a file database): under Deno and under Bun.
 * - Both chains at once (`--url` a fresh PostgreSQL database, which autogenerate also uses as
 *   the server for its scratch database): SQLite file and PostgreSQL database side by side, so
 *   a change that exists in one dialect only (a GIN index) writes one file and `None` in the
 *   notes for the other.
 *
 * Dumps are compared with columns sorted by name: column order is not a difference
 * (`docs/autogenerate.md`), and a SQLite rebuild may move a column.
 *
 * What each dialect does differently is asserted where it differs: a SQLite enum is a CHECK
 * changed by a table rebuild, a PostgreSQL enum gets `addEnumValue` and cannot lose the value
 * again (the downgrade leaves it, `revision` warns, and the step is re-applied with `stamp`);
 * INCLUDE and GIN mean nothing on SQLite. A rename is, as in Alembic, a drop and an add:
 * autogenerate cannot tell it from one, and the file does not mention a possible rename.
 * When the definition equals a chain's head, that chain gets no file (`None` in the notes), and
 * when it equals both, nothing is written at all.
 *
 * The regression tests at the end reproduce defects found while writing it (warnings missing
 * from the written file; an enum value that could not be added again after a downgrade).
 *
 * @module
 */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { pgTest } from "./support/pg.ts";
import { type CliResult, runCli, type Runtime, RUNTIMES, runtimeTest } from "./support/runtimes.ts";
import { withTempDir, writeFiles } from "./support/tmp.ts";

type Dialect = "sqlite" | "postgresql";

// ---------------------------------------------------------------------------------------------
// The schema definition, as data the test edits and renders into `schema.ts`

/** A column; `type` is the code of a `t.*()` call. */
interface ColumnSpec {
  name: string;
  type: string;
  nullable?: boolean;
  primaryKey?: boolean;
  references?: { table: string; column: string; onDelete?: string };
}

interface IndexSpec {
  name: string;
  columns: string[];
  where?: string;
  include?: string[];
  using?: string;
}

interface TableSpec {
  columns: ColumnSpec[];
  indexes: IndexSpec[];
}

type SchemaSpec = Record<string, TableSpec>;

/** The `schema.ts` of a spec: JSON, with each `"t.…"` string turned back into code. */
function renderSchema(spec: SchemaSpec): string {
  const tables = Object.entries(spec).map(([name, table]) =>
    `    table(${JSON.stringify(name)}, ${
      JSON.stringify(table, null, 2).replaceAll("\n", "\n    ")
        .replace(/"(t\.(?:[^"\\]|\\.)*)"/g, (_, code: string) => JSON.parse(`"${code}"`))
    }),`
  );
  return `// Written by tests/autogen_cli_test.ts.\nexport default ({ t, table }) => ({\n  tables: [\n${
    tables.join("\n")
  }\n  ],\n});\n`;
}

const STATES = ["PENDING", "RUNNING"];

function initialSchema(): SchemaSpec {
  return {
    flow: {
      columns: [
        { name: "id", type: "t.integer()", primaryKey: true },
        { name: "name", type: "t.varchar(100)", nullable: false },
        { name: "state", type: `t.enum("state_type", ${JSON.stringify(STATES)})` },
        { name: "labels", type: "t.jsonb()" },
        { name: "note", type: "t.text()" },
      ],
      indexes: [],
    },
  };
}

function column(spec: SchemaSpec, table: string, name: string): ColumnSpec {
  const found = spec[table].columns.find((c) => c.name === name);
  if (!found) throw new Error(`No column ${table}.${name} in the test schema`);
  return found;
}

// ---------------------------------------------------------------------------------------------
// The steps

/** What a dialect's generated file must (and must not) say; `null`: no file for the dialect. */
interface FileExpectation {
  up: RegExp[];
  down: RegExp[];
  notUp?: RegExp[];
  notDown?: RegExp[];
  /** Warnings `revision --autogenerate` prints (stderr) for this dialect. */
  warnings?: RegExp[];
  /** `downgrade -1` leaves the schema different from before the step (e.g. enum values). */
  downgradeLeaves?: (before: DumpJson, upgraded: DumpJson, undone: DumpJson) => void;
}

interface Step {
  message: string;
  edit: (spec: SchemaSpec) => void;
  expect: Record<Dialect, FileExpectation | null>;
}

/** The whole bodies of a "rename" of flow.note to remark. */
const RENAME_AS_DROP_AND_ADD: FileExpectation = {
  up: [
    /Promise<void> \{\n {2}await op\.dropColumn\("flow", "note"\);\n {2}await op\.addColumn\("flow", \{ name: "remark", type: t\.text\(\) \}\);\n\}/,
  ],
  notUp: [/renameTable|alterColumn|batchAlterTable/],
  down: [
    /Promise<void> \{\n {2}await op\.dropColumn\("flow", "remark"\);\n {2}await op\.addColumn\("flow", \{ name: "note", type: t\.text\(\) \}\);\n\}/,
  ],
};

const STEPS: readonly Step[] = [
  {
    message: "Add table tag",
    edit: (spec) => {
      spec.tag = {
        columns: [
          { name: "id", type: "t.integer()", primaryKey: true },
          { name: "flow_id", type: "t.integer()", nullable: false },
          { name: "label", type: "t.text()" },
        ],
        indexes: [],
      };
    },
    expect: {
      sqlite: { up: [/await op\.createTable\("tag", \[/], down: [/await op\.dropTable\("tag"\)/] },
      postgresql: {
        up: [/await op\.createTable\("tag", \[/],
        down: [/await op\.dropTable\("tag"\)/],
      },
    },
  },
  {
    message: "Add column flow.description",
    edit: (spec) => spec.flow.columns.push({ name: "description", type: "t.text()" }),
    expect: {
      // SQLite adds a nullable column natively: no rebuild.
      sqlite: {
        up: [/await op\.addColumn\("flow", \{ name: "description", type: t\.text\(\) \}\)/],
        notUp: [/batchAlterTable/],
        down: [/dropColumn\("flow", "description"\)|b\.dropColumn\("description"\)/],
      },
      postgresql: {
        up: [/await op\.addColumn\("flow", \{ name: "description", type: t\.text\(\) \}\)/],
        down: [/await op\.dropColumn\("flow", "description"\)/],
      },
    },
  },
  {
    message: "Widen flow.name",
    edit: (spec) => column(spec, "flow", "name").type = "t.varchar(255)",
    expect: {
      // SQLite cannot alter a column: one rebuild of the table.
      sqlite: {
        up: [
          /await op\.batchAlterTable\("flow", \(b\) => \{\n\s+b\.alterColumn\("name", \{ type: t\.varchar\(255\) \}\);/,
        ],
        down: [/b\.alterColumn\("name", \{ type: t\.varchar\(100\) \}\)/],
      },
      postgresql: {
        up: [/await op\.alterColumn\("flow", "name", \{ type: t\.varchar\(255\) \}\)/],
        notUp: [/batchAlterTable/],
        down: [/await op\.alterColumn\("flow", "name", \{ type: t\.varchar\(100\) \}\)/],
      },
    },
  },
  {
    message: "Drop column flow.description",
    edit: (spec) => {
      spec.flow.columns = spec.flow.columns.filter((c) => c.name !== "description");
    },
    expect: {
      sqlite: {
        up: [/dropColumn\("flow", "description"\)|b\.dropColumn\("description"\)/],
        down: [/addColumn\(("flow", )?\{ name: "description", type: t\.text\(\) \}\)/],
      },
      postgresql: {
        up: [/await op\.dropColumn\("flow", "description"\)/],
        down: [/await op\.addColumn\("flow", \{ name: "description", type: t\.text\(\) \}\)/],
      },
    },
  },
  {
    message: "Add foreign key tag.flow_id",
    edit: (spec) => {
      column(spec, "tag", "flow_id").references = {
        table: "flow",
        column: "id",
        onDelete: "CASCADE",
      };
    },
    expect: {
      // SQLite cannot add a constraint to a table: a rebuild, with the constraint named.
      sqlite: {
        up: [
          /await op\.batchAlterTable\("tag", \(b\) => \{\n\s+b\.createForeignKey\(\{/,
          /name: "fk_tag_flow_id_flow",\s+columns: \["flow_id"\],\s+refTable: "flow",\s+refColumns: \["id"\],\s+onDelete: "CASCADE",/,
        ],
        down: [/b\.dropConstraint\("fk_tag_flow_id_flow"\)/],
      },
      // PostgreSQL adds it directly, under the name PostgreSQL would give it.
      postgresql: {
        up: [
          /await op\.createForeignKey\("tag", \{\s*name: "tag_flow_id_fkey",/,
          /columns: \["flow_id"\],\s+refTable: "flow",\s+refColumns: \["id"\],\s+onDelete: "CASCADE"/,
        ],
        notUp: [/batchAlterTable/],
        down: [/await op\.dropConstraint\("tag", "tag_flow_id_fkey"\)/],
      },
    },
  },
  {
    message: "Add enum value COMPLETED",
    edit: (spec) => {
      column(spec, "flow", "state").type = `t.enum("state_type", ${
        JSON.stringify([...STATES, "COMPLETED"])
      })`;
    },
    expect: {
      // SQLite: the enum is a CHECK on the column, changed by a rebuild (both ways).
      sqlite: {
        up: [
          /await op\.batchAlterTable\("flow", \(b\) => \{\n\s+b\.alterColumn\("state", \{ type: t\.enum\("state_type", \["PENDING", "RUNNING", "COMPLETED"\]\) \}\);/,
        ],
        notUp: [/addEnumValue/],
        // SQLite keeps no enum name: the downgrade's type is named after the column.
        down: [
          /await op\.batchAlterTable\("flow"/,
          /b\.alterColumn\("state", \{ type: t\.enum\("\w+", \["PENDING", "RUNNING"\]\) \}\)/,
        ],
      },
      // PostgreSQL: ALTER TYPE ... ADD VALUE; no generated downgrade can remove the value, and
      // revision says so. (The file says so too: see the regression tests below.)
      postgresql: {
        up: [
          /await op\.addEnumValue\("state_type", "COMPLETED", \{ after: "RUNNING", ifNotExists: true \}\)/,
        ],
        down: [],
        notDown: [/await op\./],
        warnings: [
          /postgresql: Cannot change enum state_type from \(PENDING, RUNNING, COMPLETED\) to \(PENDING, RUNNING\): PostgreSQL cannot remove or reorder enum values/,
        ],
        // The downgrade changes nothing: the schema stays as the upgrade left it.
        downgradeLeaves: (_before, upgraded, undone) => {
          assert.deepEqual(undone, upgraded);
          assert.deepEqual(undone.enums.find((e) => e.name === "state_type")?.values, [
            ...STATES,
            "COMPLETED",
          ]);
        },
      },
    },
  },
  {
    message: "Add partial index on running flows",
    edit: (spec) => {
      spec.flow.indexes.push({
        name: "ix_flow_running_name",
        columns: ["name"],
        where: "state = 'RUNNING'",
      });
    },
    expect: {
      sqlite: {
        up: [
          /await op\.createIndex\("ix_flow_running_name", "flow", \["name"\], \{ where: "state = 'RUNNING'" \}\)/,
        ],
        notUp: [/batchAlterTable/],
        down: [/await op\.dropIndex\("ix_flow_running_name"/],
      },
      postgresql: {
        up: [/await op\.createIndex\("ix_flow_running_name", "flow", \["name"\], \{ where: /],
        down: [/await op\.dropIndex\("ix_flow_running_name"/],
      },
    },
  },
  {
    message: "Add covering index on tag",
    edit: (spec) => {
      spec.tag.indexes.push({ name: "ix_tag_flow_id", columns: ["flow_id"], include: ["label"] });
    },
    expect: {
      // INCLUDE is dropped on SQLite: a plain index.
      sqlite: {
        up: [/await op\.createIndex\("ix_tag_flow_id", "tag", \["flow_id"\]\)/],
        notUp: [/include/],
        down: [/await op\.dropIndex\("ix_tag_flow_id"/],
      },
      postgresql: {
        up: [
          /await op\.createIndex\("ix_tag_flow_id", "tag", \["flow_id"\], \{ include: \["label"\] \}\)/,
        ],
        down: [/await op\.dropIndex\("ix_tag_flow_id"/],
      },
    },
  },
  {
    message: "Add GIN index on flow.labels",
    edit: (spec) => {
      spec.flow.indexes.push({ name: "ix_flow_labels", columns: ["labels"], using: "gin" });
    },
    expect: {
      // A GIN index exists on PostgreSQL only: nothing to write for SQLite.
      sqlite: null,
      postgresql: {
        up: [/await op\.createIndex\("ix_flow_labels", "flow", \["labels"\], \{ using: "gin" \}\)/],
        down: [/await op\.dropIndex\("ix_flow_labels"/],
      },
    },
  },
  {
    message: "Rename flow.note to remark",
    edit: (spec) => {
      column(spec, "flow", "note").name = "remark";
    },
    expect: {
      // As in Alembic, a rename is not detected: the old column is dropped (with its data)
      // and a new one added, the same on both dialects. The file does not mention a possible
      // rename; the user who meant one edits it (`op.alterColumn(..., { name })`).
      sqlite: RENAME_AS_DROP_AND_ADD,
      postgresql: RENAME_AS_DROP_AND_ADD,
    },
  },
];

// ---------------------------------------------------------------------------------------------
// The project and its databases

interface DumpJson {
  dialect: Dialect;
  enums: { name: string; values: string[] }[];
  tables: { name: string; columns: { name: string }[] }[];
}

interface Project {
  readonly runtime: Runtime;
  readonly dir: string;
  /** The dialects whose chains this project writes, with their database URLs. */
  readonly urls: Partial<Record<Dialect, string>>;
  /** Passed to `revision --autogenerate` and `check`: the PostgreSQL server, if any. */
  readonly serverUrl?: string;
}

function dialectsOf(project: Project): Dialect[] {
  return (Object.keys(project.urls) as Dialect[]).sort();
}

async function strata(project: Project, args: readonly string[]): Promise<CliResult> {
  return await runCli(project.runtime, ["--dir", path.join(project.dir, "migrations"), ...args], {
    cwd: project.dir,
  });
}

function ok(result: CliResult, what: string): CliResult {
  assert.equal(result.code, 0, `${what}: exit ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result;
}

function writeSchema(project: Project, spec: SchemaSpec): void {
  writeFiles(project.dir, { "schema.ts": renderSchema(spec) });
}

interface Revised {
  files: { dialect: Dialect; path: string; revision: string }[];
  stderr: string;
}

async function autogenerate(project: Project, message: string): Promise<Revised> {
  const dialects = dialectsOf(project);
  const args = [
    ...(project.serverUrl ? ["--url", project.serverUrl] : []),
    "--json",
    "revision",
    "--autogenerate",
    "-m",
    message,
    ...(dialects.length === 1 ? ["--dialect", dialects[0]] : []),
  ];
  const result = ok(await strata(project, args), `revision --autogenerate -m "${message}"`);
  return { files: JSON.parse(result.stdout).files, stderr: result.stderr };
}

async function dump(project: Project, dialect: Dialect): Promise<DumpJson> {
  const result = ok(
    await strata(project, ["--url", project.urls[dialect]!, "schema", "dump", "--json"]),
    `schema dump (${dialect})`,
  );
  const model = JSON.parse(result.stdout) as DumpJson;
  // Column order is not a difference (docs/autogenerate.md), and rebuilds may change it.
  for (const table of model.tables) {
    table.columns = [...table.columns].sort((a, b) => a.name.localeCompare(b.name));
  }
  return model;
}

async function dumps(project: Project): Promise<Record<Dialect, DumpJson>> {
  const out = {} as Record<Dialect, DumpJson>;
  for (const dialect of dialectsOf(project)) out[dialect] = await dump(project, dialect);
  return out;
}

async function migrate(project: Project, dialect: Dialect, ...args: string[]): Promise<void> {
  ok(
    await strata(project, ["--url", project.urls[dialect]!, ...args]),
    `${args.join(" ")} (${dialect})`,
  );
}

/** `check` exits 0 for every database of the project (drift included, on PostgreSQL too). */
async function checkClean(project: Project): Promise<void> {
  for (const dialect of dialectsOf(project)) {
    const result = await strata(project, ["--url", project.urls[dialect]!, "check"]);
    ok(result, `check (${dialect})`);
    assert.match(result.stdout + result.stderr, /strata check: no problems/);
  }
}

/** The newest notes entry: its title and each dialect's ID (null for `None`). */
function newestNote(project: Project): { title: string; ids: Record<Dialect, string | null> } {
  const text = fs.readFileSync(path.join(project.dir, "MIGRATION-NOTES.md"), "utf8");
  const match = text.match(/^# (.+)\nSQLite: (`(\w+)`|None)\nPostgres: (`(\w+)`|None)$/m);
  assert.ok(match, `no entry in the notes:\n${text}`);
  return { title: match[1], ids: { sqlite: match[3] ?? null, postgresql: match[5] ?? null } };
}

function assertFile(file: string, expectation: FileExpectation, label: string): void {
  const text = fs.readFileSync(file, "utf8");
  const [up, down] = text.split(/^export (?:async )?function downgrade/m);
  assert.ok(down !== undefined, `${label}: no downgrade function in\n${text}`);
  const why = (part: string) => `${label}: ${part} of ${file}:\n${text}`;
  for (const re of expectation.up) assert.match(up, re, why("upgrade"));
  for (const re of expectation.notUp ?? []) assert.doesNotMatch(up, re, why("upgrade"));
  for (const re of expectation.down) assert.match(down, re, why("downgrade"));
  for (const re of expectation.notDown ?? []) assert.doesNotMatch(down, re, why("downgrade"));
}

// ---------------------------------------------------------------------------------------------
// The round trip

async function roundTrips(project: Project, steps: readonly Step[] = STEPS): Promise<void> {
  const dialects = dialectsOf(project);
  const spec = initialSchema();
  writeSchema(project, spec);
  const initial = await autogenerate(project, "Initial schema");
  assert.deepEqual(initial.files.map((f) => f.dialect).sort(), dialects);
  for (const dialect of dialects) await migrate(project, dialect, "upgrade", "head");
  await checkClean(project);

  for (const step of steps) {
    const label = (dialect: Dialect) => `${step.message} [${dialect}]`;
    const before = await dumps(project);
    step.edit(spec);
    writeSchema(project, spec);

    const revised = await autogenerate(project, step.message);
    const written = dialects.filter((d) => step.expect[d] !== null);
    assert.deepEqual(
      revised.files.map((f) => f.dialect).sort(),
      written,
      `${step.message}: files written\n${revised.stderr}`,
    );
    for (const file of revised.files) {
      const expectation = step.expect[file.dialect]!;
      assertFile(file.path, expectation, label(file.dialect));
      for (const re of expectation.warnings ?? []) {
        assert.match(revised.stderr, re, `${label(file.dialect)}: warnings`);
      }
    }
    if (written.length === 0) {
      // Nothing anywhere: no file, no entry.
      assert.notEqual(newestNote(project).title, step.message);
    } else {
      const note = newestNote(project);
      assert.equal(note.title, step.message);
      for (const dialect of ["sqlite", "postgresql"] as const) {
        const file = revised.files.find((f) => f.dialect === dialect);
        assert.equal(note.ids[dialect], file?.revision ?? null, `${label(dialect)}: notes`);
      }
    }

    for (const dialect of dialects) await migrate(project, dialect, "upgrade", "head");
    await checkClean(project);
    const after = await dumps(project);
    for (const dialect of dialects) {
      if (step.expect[dialect] === null) {
        assert.deepEqual(after[dialect], before[dialect], `${label(dialect)}: unchanged`);
      } else {
        assert.notDeepEqual(after[dialect], before[dialect], `${label(dialect)}: changed`);
      }
    }

    for (const dialect of written) {
      await migrate(project, dialect, "downgrade", "-1");
      const undone = await dump(project, dialect);
      const leaves = step.expect[dialect]!.downgradeLeaves;
      if (leaves) leaves(before[dialect], after[dialect], undone);
      else assert.deepEqual(undone, before[dialect], `${label(dialect)}: downgrade -1`);
      // A downgrade that left the schema at head (an enum value stays) upgrades again too:
      // the value is added IF NOT EXISTS.
      await migrate(project, dialect, "upgrade", "head");
      assert.deepEqual(
        await dump(project, dialect),
        after[dialect],
        `${label(dialect)}: re-upgrade`,
      );
    }
  }

  // The definition now equals every head: nothing to write, and the notes keep their entry.
  const notes = fs.readFileSync(path.join(project.dir, "MIGRATION-NOTES.md"), "utf8");
  const same = await autogenerate(project, "Nothing changed");
  assert.deepEqual(same.files, []);
  for (const dialect of dialects) {
    assert.match(same.stderr, new RegExp(`${dialect}: no differences from the schema definition`));
  }
  assert.equal(fs.readFileSync(path.join(project.dir, "MIGRATION-NOTES.md"), "utf8"), notes);
  await checkClean(project);
}

runtimeTest(
  "autogenerate round trips on SQLite, one kind of change per step",
  (runtime) =>
    withTempDir((dir) =>
      roundTrips({ runtime, dir, urls: { sqlite: `sqlite:${path.join(dir, "app.db")}` } })
    ),
);

pgTest(
  "autogenerate round trips on both chains, PostgreSQL and SQLite side by side",
  (url) =>
    withTempDir((dir) =>
      roundTrips({
        runtime: RUNTIMES[0],
        dir,
        urls: { sqlite: `sqlite:${path.join(dir, "app.db")}`, postgresql: url },
        serverUrl: url,
      })
    ),
);

// ---------------------------------------------------------------------------------------------
// Regression: what autogenerate cannot write must reach the file written by `strata revision`.
//
// docs/autogenerate.md: "What cannot be generated is written into the migration as a
// `TODO(strata autogenerate)` comment and returned as a warning". `createRevision`
// (lib/revise.ts) renders the bodies with `renderOperations` and passes the warnings only to
// `onWarning` (stderr), so the file has an empty function where the TODO should be.

const UNNAMED_CHECK_CHAIN = {
  "2026_01_01_000001_c00000000001_create_pet.sql": `-- revision: c00000000001
-- down_revision: none
-- message: Create pet

-- migrate:up
CREATE TABLE pet (id INTEGER PRIMARY KEY, name TEXT, CHECK (length(name) > 0));

-- migrate:down
DROP TABLE pet;
`,
};

Deno.test({
  name: "revision --autogenerate writes the TODO of an undroppable SQLite CHECK into the file",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withTempDir(async (dir) => {
      const project: Project = { runtime: RUNTIMES[0], dir, urls: { sqlite: "sqlite::memory:" } };
      writeFiles(path.join(dir, "migrations", "sqlite"), UNNAMED_CHECK_CHAIN);
      writeSchema(project, {
        pet: {
          columns: [
            { name: "id", type: "t.integer()", primaryKey: true },
            { name: "name", type: "t.text()" },
          ],
          indexes: [],
        },
      });
      const revised = await autogenerate(project, "Drop the name check");
      assert.match(revised.stderr, /sqlite: Cannot drop the unnamed CHECK \(length\(name\) > 0\)/);
      assert.equal(revised.files.length, 1);
      const text = fs.readFileSync(revised.files[0].path, "utf8");
      assert.match(
        text,
        /TODO\(strata autogenerate\): Cannot drop the unnamed CHECK/,
        `the file has no TODO:\n${text}`,
      );
    }),
});

/** A PostgreSQL project at head whose last revision adds COMPLETED to state_type. */
async function enumValueProject(url: string, dir: string) {
  const project: Project = { runtime: RUNTIMES[0], dir, urls: { postgresql: url }, serverUrl: url };
  const spec = initialSchema();
  writeSchema(project, spec);
  await autogenerate(project, "Initial schema");
  column(spec, "flow", "state").type = `t.enum("state_type", ${
    JSON.stringify([...STATES, "COMPLETED"])
  })`;
  writeSchema(project, spec);
  const revised = await autogenerate(project, "Add enum value COMPLETED");
  await migrate(project, "postgresql", "upgrade", "head");
  return { project, revised };
}

pgTest(
  "revision --autogenerate writes the TODO of an enum value's downgrade into the file",
  (url) =>
    withTempDir(async (dir) => {
      const { revised } = await enumValueProject(url, dir);
      assert.match(revised.stderr, /postgresql: Cannot change enum state_type/);
      const text = fs.readFileSync(revised.files[0].path, "utf8");
      const down = text.split(/^export (?:async )?function downgrade/m)[1];
      assert.match(
        down,
        /TODO\(strata autogenerate\): Cannot change enum state_type/,
        `the downgrade has no TODO:\n${text}`,
      );
    }),
);

// Regression: the generated enum-value migration must run again after its own downgrade. Its
// downgrade cannot remove the value, so the value stays, and the next `upgrade` runs
// `ALTER TYPE state_type ADD VALUE 'COMPLETED' AFTER 'RUNNING'` again and fails with
// `enum label "COMPLETED" already exists`. Generating `addEnumValue(..., { ifNotExists: true })`
// (`ADD VALUE IF NOT EXISTS`) would make the pair re-runnable.
pgTest(
  "an autogenerated enum value can be upgraded again after downgrade -1",
  (url) =>
    withTempDir(async (dir) => {
      const { project } = await enumValueProject(url, dir);
      await migrate(project, "postgresql", "downgrade", "-1");
      const again = await strata(project, ["--url", url, "upgrade", "head"]);
      assert.equal(again.code, 0, `upgrade after downgrade -1:\n${again.stdout}\n${again.stderr}`);
    }),
);
