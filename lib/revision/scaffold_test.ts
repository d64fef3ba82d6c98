import { deepStrictEqual, equal, match, notEqual, ok, throws } from "node:assert/strict";
import { RevisionGraph } from "./graph.ts";
import { parseFilename } from "./filename.ts";
import { renderTemplate, scaffoldMerge, scaffoldRevision } from "./scaffold.ts";
import { parseSqlMigration, revisionFromModule } from "./script.ts";
import { literalRevision as r } from "./testing.ts";

const TS_TEMPLATE = await Deno.readTextFile(
  new URL("../../templates/migration.ts.tmpl", import.meta.url),
);
const SQL_TEMPLATE = await Deno.readTextFile(
  new URL("../../templates/migration.sql.tmpl", import.meta.url),
);

const date = new Date(Date.UTC(2026, 10, 21, 14, 30, 5));
const dirs = { sqlite: "migrations/sqlite", postgresql: "migrations/postgresql" } as const;
const linear = {
  sqlite: new RevisionGraph([r("5a0000000001"), r("5a0000000002", ["5a0000000001"])]),
  postgresql: new RevisionGraph([r("b0000000000a")]),
};
const forked = {
  sqlite: new RevisionGraph([
    r("aaaa00000001"),
    r("bbbb00000002", ["aaaa00000001"]),
    r("cccc00000003", ["aaaa00000001"]),
  ]),
  postgresql: new RevisionGraph([
    r("dddd00000001"),
    r("eeee00000002", ["dddd00000001"]),
    r("ffff00000003", ["dddd00000001"]),
  ]),
};

Deno.test("renderTemplate: known names replaced, others kept", () => {
  equal(renderTemplate("${a}-${b}-${a}", { a: "1", b: "2" }), "1-2-1");
  equal(renderTemplate("const x = `${y}`; ${revision}", { revision: "r" }), "const x = `${y}`; r");
});

Deno.test("scaffoldRevision: a pair sharing timestamp and slug, each child of its head", async () => {
  const { files, entry } = scaffoldRevision({
    chains: linear,
    dirs,
    message: "Add labels column",
    date,
    ext: "sql",
    template: SQL_TEMPLATE,
    upgrades: { sqlite: "ALTER TABLE flow ADD COLUMN labels JSON;" },
  });
  deepStrictEqual(files.map((f) => f.dialect), ["sqlite", "postgresql"]);
  const parsed = files.map((f) => parseFilename(f.filename)!);
  deepStrictEqual(parsed.map((p) => [p.timestamp, p.slug]), [
    ["2026_11_21_143005", "add_labels_column"],
    ["2026_11_21_143005", "add_labels_column"],
  ]);
  deepStrictEqual(parsed.map((p) => p.revision), files.map((f) => f.revision));
  notEqual(files[0].revision, files[1].revision);
  for (const f of files) {
    match(f.revision, /^[0-9a-f]{12}$/);
    ok(!linear.sqlite.has(f.revision) && !linear.postgresql.has(f.revision));
    equal(f.path, `${dirs[f.dialect]}/${f.filename}`);
  }
  deepStrictEqual(files.map((f) => f.downRevisions), [["5a0000000002"], ["b0000000000a"]]);
  deepStrictEqual(entry, {
    title: "Add labels column",
    sqlite: files[0].revision,
    postgresql: files[1].revision,
    body: "",
  });
  // The files load back as the revisions they claim to be.
  const sqlite = await parseSqlMigration(files[0].content, files[0].path);
  deepStrictEqual([sqlite.revision, sqlite.downRevisions, sqlite.message, sqlite.warnings], [
    files[0].revision,
    ["5a0000000002"],
    "Add labels column",
    [],
  ]);
  deepStrictEqual(sqlite.upgrade.kind === "sql" && sqlite.upgrade.statements.map((s) => s.sql), [
    "ALTER TABLE flow ADD COLUMN labels JSON",
  ]);
  const postgres = await parseSqlMigration(files[1].content, files[1].path);
  deepStrictEqual(postgres.upgrade.kind === "sql" && postgres.upgrade.statements, []);
});

Deno.test("scaffoldRevision: --dialect makes one side, None on the other; empty chain is a base", async () => {
  const empty = new RevisionGraph([]);
  const { files, entry } = scaffoldRevision({
    chains: { sqlite: empty, postgresql: linear.postgresql },
    dirs,
    message: "Initial",
    date,
    dialects: ["sqlite"],
    ext: "sql",
    template: SQL_TEMPLATE,
  });
  equal(files.length, 1);
  equal(entry.postgresql, null);
  equal(entry.sqlite, files[0].revision);
  const rev = await parseSqlMigration(files[0].content, files[0].path);
  deepStrictEqual(rev.downRevisions, []);
  match(files[0].content, /^-- down_revision: none$/m);
});

Deno.test("scaffoldRevision: several heads is an error suggesting merge", () => {
  throws(
    () =>
      scaffoldRevision({
        chains: forked,
        dirs,
        message: "x",
        date,
        ext: "sql",
        template: SQL_TEMPLATE,
      }),
    /Cannot create a revision for the sqlite chain: it has 2 heads \(bbbb00000002, cccc00000003\); run 'strata merge -m MESSAGE heads --dialect sqlite' first/,
  );
  throws(
    () =>
      scaffoldRevision({
        chains: linear,
        dirs,
        message: "  ",
        date,
        ext: "sql",
        template: SQL_TEMPLATE,
      }),
    /the message is empty/,
  );
});

Deno.test("scaffoldRevision: TypeScript files import nothing, type-check and load", async () => {
  const message = 'Add "quoted" */ column';
  const { files } = scaffoldRevision({
    chains: linear,
    dirs,
    message,
    date,
    ext: "ts",
    template: TS_TEMPLATE,
  });
  const dir = await Deno.makeTempDir({ prefix: "strata_scaffold_" });
  try {
    for (const file of files) {
      ok(!/^\s*import\s/m.test(file.content), "no imports");
      const path = `${dir}/${file.filename}`;
      await Deno.writeTextFile(path, file.content);
      const check = await new Deno.Command(Deno.execPath(), {
        args: ["check", "--quiet", path],
        stdout: "piped",
        stderr: "piped",
      }).output();
      equal(check.success, true, new TextDecoder().decode(check.stderr));
      const exports = await import(`file://${path}`);
      const rev = await revisionFromModule(exports, path, file.content);
      deepStrictEqual([rev.revision, rev.downRevisions, rev.message], [
        file.revision,
        file.downRevisions,
        message,
      ]);
      equal(rev.downgrade?.kind, "function");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scaffoldMerge: joins heads per chain, or the named revisions", async () => {
  const { files, entry } = scaffoldMerge({
    chains: forked,
    dirs,
    message: "Merge heads",
    date,
    ext: "sql",
    template: SQL_TEMPLATE,
  });
  deepStrictEqual(files.map((f) => f.downRevisions), [["bbbb00000002", "cccc00000003"], [
    "eeee00000002",
    "ffff00000003",
  ]]);
  const rev = await parseSqlMigration(files[0].content, files[0].path);
  deepStrictEqual(rev.downRevisions, ["bbbb00000002", "cccc00000003"]);
  deepStrictEqual([entry.sqlite, entry.postgresql], [files[0].revision, files[1].revision]);
  const { files: tsFiles } = scaffoldMerge({
    chains: forked,
    dirs,
    message: "Merge",
    date,
    ext: "ts",
    template: TS_TEMPLATE,
  });
  match(
    tsFiles[0].content,
    /export const downRevision: string \| string\[\] \| null = \["bbbb00000002", "cccc00000003"\];/,
  );
  // Named revisions by prefix; a chain with a single head is skipped when no dialect is named.
  const only = scaffoldMerge({
    chains: { sqlite: forked.sqlite, postgresql: linear.postgresql },
    dirs,
    message: "Merge",
    date,
    ext: "sql",
    template: SQL_TEMPLATE,
    revisions: { sqlite: ["bbbb", "cccc"] },
  });
  deepStrictEqual(only.files.map((f) => [f.dialect, f.downRevisions]), [["sqlite", [
    "bbbb00000002",
    "cccc00000003",
  ]]]);
  equal(only.entry.postgresql, null);
});

Deno.test("scaffoldMerge: nothing to merge and ancestor merges are errors", () => {
  throws(
    () =>
      scaffoldMerge({
        chains: linear,
        dirs,
        message: "m",
        date,
        ext: "sql",
        template: SQL_TEMPLATE,
      }),
    /Cannot merge: every chain has a single head/,
  );
  throws(
    () =>
      scaffoldMerge({
        chains: linear,
        dirs,
        message: "m",
        date,
        dialects: ["sqlite"],
        ext: "sql",
        template: SQL_TEMPLATE,
      }),
    /Cannot merge the sqlite chain: only 5a0000000002 to merge/,
  );
  throws(
    () =>
      scaffoldMerge({
        chains: forked,
        dirs,
        message: "m",
        date,
        ext: "sql",
        template: SQL_TEMPLATE,
        revisions: { sqlite: ["aaaa", "bbbb"] },
      }),
    /aaaa00000001 is an ancestor of bbbb00000002/,
  );
});
