import { deepStrictEqual, equal, match, ok, rejects } from "node:assert/strict";
import {
  checksumText,
  loadChain,
  MigrationFileError,
  parseSqlMigration,
  revisionFromModule,
  type ScriptSource,
  splitSqlStatements,
} from "./script.ts";
import type { SqlStep } from "./revision.ts";

const statements = (step: unknown) => (step as SqlStep).statements.map((s) => [s.line, s.sql]);

Deno.test("parseSqlMigration: header, sections, statements with lines", async () => {
  const text = [
    "-- revision: 5952a5498b51",
    "-- down_revision: 4ad4658cbefe",
    "-- message: Add labels column",
    "-- A free comment line is fine in the header.",
    "",
    "-- migrate:up",
    "ALTER TABLE flow ADD COLUMN labels JSON;",
    "",
    "-- backfill",
    "UPDATE flow",
    "   SET labels = '{}';",
    "",
    "-- migrate:down transaction:false",
    "ALTER TABLE flow DROP COLUMN labels",
  ].join("\n");
  const rev = await parseSqlMigration(text, "m/2026_11_21_143005_5952a5498b51_add_labels.sql");
  equal(rev.revision, "5952a5498b51");
  deepStrictEqual(rev.downRevisions, ["4ad4658cbefe"]);
  equal(rev.message, "Add labels column");
  equal(rev.filename, "2026_11_21_143005_5952a5498b51_add_labels.sql");
  equal(rev.timestamp, "2026_11_21_143005");
  equal(rev.slug, "add_labels");
  deepStrictEqual(rev.warnings, []);
  equal(rev.upgrade.transactional, true);
  deepStrictEqual(statements(rev.upgrade), [
    [7, "ALTER TABLE flow ADD COLUMN labels JSON"],
    [10, "UPDATE flow\n   SET labels = '{}'"],
  ]);
  equal(rev.downgrade?.transactional, false);
  deepStrictEqual(statements(rev.downgrade), [[14, "ALTER TABLE flow DROP COLUMN labels"]]);
  equal(rev.checksum, await checksumText(text));
});

Deno.test("parseSqlMigration: header value forms", async () => {
  const cases: [string, Partial<Record<string, unknown>>][] = [
    ["-- down_revision: none", { downRevisions: [] }],
    ["-- down_revision: None", { downRevisions: [] }],
    ["-- down_revision: a1, b2 ,c3", { downRevisions: ["a1", "b2", "c3"] }],
    ["-- branch_labels: core, extra", { branchLabels: ["core", "extra"] }],
    ["-- depends_on: abc123456789", { dependsOn: ["abc123456789"] }],
    ["--message:No space", { message: "No space" }],
    ["", { downRevisions: [], branchLabels: [], dependsOn: [], message: "" }],
  ];
  for (const [line, expected] of cases) {
    const down = line.includes("down_revision") ? "" : "-- down_revision: none\n";
    const rev = await parseSqlMigration(
      `-- revision: r1\n${down}${line}\n-- migrate:up\nSELECT 1;`,
      "x.sql",
    );
    for (const [key, value] of Object.entries(expected)) {
      deepStrictEqual((rev as unknown as Record<string, unknown>)[key], value, line);
    }
  }
});

Deno.test("parseSqlMigration: errors name file and line", async () => {
  const cases: [string, RegExp][] = [
    ["-- down_revision: none\n-- migrate:up\nSELECT 1;", /^Cannot load f\.sql:1: missing header/],
    [
      "-- revision: r1\n-- revison: typo\n-- migrate:up\n",
      /^Cannot load f\.sql:2: bad header line: unknown key 'revison'/,
    ],
    [
      "-- revision: r1\nSELECT 1;\n-- migrate:up\n",
      /^Cannot load f\.sql:2: bad header line: SQL before/,
    ],
    [
      "-- revision: r1\n-- migrate:up\nSELECT 1;\n-- migrate:up\nSELECT 2;",
      /^Cannot load f\.sql:4: second '-- migrate:up' section \(the first starts at line 2\)/,
    ],
    [
      "-- revision: r1\n-- down_revision: none\n-- migrate:down\nSELECT 1;\n",
      /^Cannot load f\.sql:5: no '-- migrate:up' section/,
    ],
    [
      "-- revision: r1\n-- migrate:sideways\n",
      /^Cannot load f\.sql:2: unknown marker '-- migrate:sideways'/,
    ],
    [
      "-- revision: r1\n-- migrate:up transaction:maybe\n",
      /^Cannot load f\.sql:2: unknown option 'transaction:maybe'/,
    ],
    [
      "-- revision: r1\n-- revision: r2\n-- migrate:up\n",
      /^Cannot load f\.sql:2: header 'revision' given twice/,
    ],
    ["-- revision: r-1!\n-- migrate:up\n", /^Cannot load f\.sql:1: revision 'r-1!' must be/],
    [
      "-- revision: r1\n-- message: no parent\n-- migrate:up\nSELECT 1;\n",
      /^Cannot load f\.sql: missing header '-- down_revision: <id>' before the first marker \(use 'none' for the first migration of a chain\)$/,
    ],
    [
      "-- revision: r1\n-- down_revision:\n-- migrate:up\nSELECT 1;\n",
      /^Cannot load f\.sql:2: header 'down_revision' is empty; name the parent revision, or 'none'/,
    ],
  ];
  for (const [text, pattern] of cases) {
    await rejects(parseSqlMigration(text, "f.sql"), (error: Error) => {
      ok(error instanceof MigrationFileError, text);
      equal((error as MigrationFileError).file, "f.sql");
      match(error.message, pattern);
      return true;
    });
  }
});

Deno.test("parseSqlMigration: CRLF files parse and checksum like LF files", async () => {
  const lf = "-- revision: r1\n-- down_revision: none\n-- migrate:up\nSELECT 1;\nSELECT 2;\n";
  const a = await parseSqlMigration(lf, "a.sql");
  const b = await parseSqlMigration(lf.replace(/\n/g, "\r\n"), "a.sql");
  deepStrictEqual(statements(b.upgrade), statements(a.upgrade));
  equal(a.checksum, b.checksum);
  equal(b.downgrade, null);
});

Deno.test("splitSqlStatements: quoting, comments, dollar quotes, trigger bodies", () => {
  const cases: [string, string, [number, string][]][] = [
    ["plain", "SELECT 1; SELECT 2;", [[1, "SELECT 1"], [1, "SELECT 2"]]],
    ["no final semicolon", "SELECT 1;\nSELECT 2", [[1, "SELECT 1"], [2, "SELECT 2"]]],
    ["single quotes", "INSERT INTO t VALUES ('a;b', 'it''s;');", [[
      1,
      "INSERT INTO t VALUES ('a;b', 'it''s;')",
    ]]],
    ["double quotes", 'CREATE TABLE "a;b" (x INT);', [[1, 'CREATE TABLE "a;b" (x INT)']]],
    ["backslash E string", "SELECT E'a\\';b';\nSELECT 2;", [[1, "SELECT E'a\\';b'"], [
      2,
      "SELECT 2",
    ]]],
    ["line comment", "SELECT 1 -- ; not a split\n;SELECT 2;", [[1, "SELECT 1 -- ; not a split"], [
      2,
      "SELECT 2",
    ]]],
    ["block comment", "/* a; b */ SELECT 1; /* nested /* ; */ ; */ SELECT 2;", [[1, "SELECT 1"], [
      1,
      "SELECT 2",
    ]]],
    ["leading comments dropped, line of first token", "-- note\n\n  SELECT 1;", [[3, "SELECT 1"]]],
    ["comment-only tail dropped", "SELECT 1;\n-- trailing\n/* done */\n", [[1, "SELECT 1"]]],
    ["empty statements dropped", ";;SELECT 1;;", [[1, "SELECT 1"]]],
    [
      "dollar quoting",
      "CREATE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n  NEW.x := 1; RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\nSELECT 2;",
      [[
        1,
        "CREATE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n  NEW.x := 1; RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql",
      ], [6, "SELECT 2"]],
    ],
    [
      "tagged dollar quoting",
      "DO $body$ BEGIN PERFORM ';'; END $body$; SELECT $1;",
      [[1, "DO $body$ BEGIN PERFORM ';'; END $body$"], [1, "SELECT $1"]],
    ],
    [
      "sqlite trigger body",
      "CREATE TRIGGER t AFTER INSERT ON a\nBEGIN\n  UPDATE b SET n = n + 1;\n  UPDATE c SET m = CASE WHEN m > 0 THEN 1 ELSE 0 END;\nEND;\nSELECT 3;",
      [[
        1,
        "CREATE TRIGGER t AFTER INSERT ON a\nBEGIN\n  UPDATE b SET n = n + 1;\n  UPDATE c SET m = CASE WHEN m > 0 THEN 1 ELSE 0 END;\nEND",
      ], [6, "SELECT 3"]],
    ],
    [
      "postgres BEGIN ATOMIC body",
      "CREATE FUNCTION one() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;\nSELECT 2;",
      [[1, "CREATE FUNCTION one() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END"], [
        2,
        "SELECT 2",
      ]],
    ],
    ["transaction statements are not bodies", "BEGIN; SELECT 1; COMMIT;", [[1, "BEGIN"], [
      1,
      "SELECT 1",
    ], [1, "COMMIT"]]],
    ["CASE outside a body", "SELECT CASE WHEN 1 THEN 2 END; SELECT 3;", [[
      1,
      "SELECT CASE WHEN 1 THEN 2 END",
    ], [1, "SELECT 3"]]],
    ["brackets", "SELECT [a;b] FROM t;", [[1, "SELECT [a;b] FROM t"]]],
  ];
  for (const [name, sql, expected] of cases) {
    deepStrictEqual(splitSqlStatements(sql).map((s) => [s.line, s.sql]), expected, name);
  }
  deepStrictEqual(splitSqlStatements("\nSELECT 1;", { firstLine: 10 }).map((s) => s.line), [11]);
});

Deno.test("splitSqlStatements: plain text splits as the lexer splits it", () => {
  // Text with no quotes, comments or bodies takes a path that does not tokenise; a leading
  // `/**/` (no newline, so lines stay) sends the same text through the lexer.
  const pieces = [
    "CREATE",
    "TABLE",
    "t",
    "(a INT)",
    ";",
    ";",
    " ",
    "\n",
    "\t",
    "\r\n",
    "\f",
    "x-y",
    "1.5",
    "a/b",
    "(",
    ")",
    ",",
    "END",
    "BEGIN",
  ];
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let n = 0; n < 500; n++) {
    let text = "";
    const length = Math.floor(random() * 30);
    for (let i = 0; i < length; i++) text += pieces[Math.floor(random() * pieces.length)];
    const firstLine = 1 + Math.floor(random() * 5);
    const plain = splitSqlStatements(text, { firstLine });
    const lexed = splitSqlStatements(`/**/${text}`, { firstLine });
    deepStrictEqual(plain, lexed, JSON.stringify(text));
  }
  deepStrictEqual(
    splitSqlStatements("\n\nCREATE TABLE a (x INT);\n  CREATE INDEX i ON a (x);\n\n", {
      firstLine: 5,
    }),
    [{ sql: "CREATE TABLE a (x INT)", line: 7 }, { sql: "CREATE INDEX i ON a (x)", line: 8 }],
  );
});

Deno.test("revisionFromModule: exports become a record", async () => {
  const upgrade = () => {};
  const downgrade = () => {};
  const rev = await revisionFromModule(
    {
      revision: "5952a5498b51",
      downRevision: ["a1", "b2"],
      branchLabels: "core",
      dependsOn: ["c3"],
      transactional: false,
      message: "Merge",
      upgrade,
      downgrade,
    },
    "dir/2026_11_21_143005_5952a5498b51_merge.ts",
    "source",
  );
  deepStrictEqual(
    [rev.revision, rev.downRevisions, rev.branchLabels, rev.dependsOn, rev.message, rev.slug],
    ["5952a5498b51", ["a1", "b2"], ["core"], ["c3"], "Merge", "merge"],
  );
  equal(rev.upgrade.kind, "function");
  equal(rev.upgrade.transactional, false);
  equal(rev.upgrade.kind === "function" && rev.upgrade.run, upgrade);
  equal(rev.downgrade?.kind === "function" && rev.downgrade.run, downgrade);
  equal(rev.checksum, await checksumText("source"));
  const base = await revisionFromModule(
    { revision: "r0", downRevision: null, upgrade },
    "r0.ts",
    "",
  );
  deepStrictEqual([base.downRevisions, base.downgrade, base.upgrade.transactional], [
    [],
    null,
    true,
  ]);
});

Deno.test("revisionFromModule: bad exports name the file", async () => {
  const upgrade = () => {};
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ downRevision: null, upgrade }, /^Cannot load m\.ts: missing 'export const revision/],
    [{ revision: "r", upgrade }, /^Cannot load m\.ts: missing 'export const downRevision'/],
    [
      { revision: "r", downRevision: null },
      /^Cannot load m\.ts: missing 'export async function upgrade/,
    ],
    [{ revision: "r", downRevision: 5, upgrade }, /export 'downRevision' must be/],
    [
      { revision: "r", downRevision: null, upgrade, downgrade: "x" },
      /export 'downgrade' must be a function/,
    ],
    [
      { revision: "r", downRevision: null, upgrade, transactional: "no" },
      /export 'transactional' must be/,
    ],
    [
      { revision: "ab-c1234", downRevision: null, upgrade },
      /^Cannot load m\.ts: revision 'ab-c1234' must be letters, digits and underscores$/,
    ],
  ];
  for (const [exports, pattern] of cases) {
    await rejects(async () => await revisionFromModule(exports, "m.ts", ""), (error: Error) => {
      ok(error instanceof MigrationFileError);
      match(error.message, pattern);
      return true;
    });
  }
});

function memorySource(
  files: Record<string, string>,
  modules: Record<string, Record<string, unknown>> = {},
): ScriptSource {
  return {
    listDir: (dir) =>
      Promise.resolve(
        Object.keys(files).filter((p) => p.startsWith(`${dir}/`)).map((p) =>
          p.slice(dir.length + 1)
        ),
      ),
    readText: (path) =>
      path in files ? Promise.resolve(files[path]) : Promise.reject(new Error(`no ${path}`)),
    importModule: (path) =>
      path in modules ? Promise.resolve(modules[path]) : Promise.reject(new Error("boom")),
  };
}

const sql = (revision: string, down = "none") =>
  `-- revision: ${revision}\n-- down_revision: ${down}\n-- migrate:up\nSELECT 1;\n`;

Deno.test("loadChain: loads .sql and .ts, ignores other files, warns on irregular names", async () => {
  const source = memorySource({
    "m/2026_01_01_000000_aaaaaaaaaaa1_first.sql": sql("aaaaaaaaaaa1"),
    "m/2026_01_02_000000_second.sql": sql("bbbbbbbbbbb2", "aaaaaaaaaaa1"),
    "m/2026_01_03_000000_d60c18774a5d_third.ts": "export const revision = 'ccccccccccc3';",
    "m/README.md": "# not a migration",
    "m/helpers.ts": "export {}",
  }, {
    "m/2026_01_03_000000_d60c18774a5d_third.ts": {
      revision: "ccccccccccc3",
      downRevision: "bbbbbbbbbbb2",
      upgrade() {},
    },
  });
  const { revisions, warnings } = await loadChain(source, "m");
  deepStrictEqual(revisions.map((r) => r.revision), [
    "aaaaaaaaaaa1",
    "bbbbbbbbbbb2",
    "ccccccccccc3",
  ]);
  deepStrictEqual(
    warnings.map((w) => [w.kind, w.file, w.revision]),
    [
      ["filename-without-revision", "m/2026_01_02_000000_second.sql", "bbbbbbbbbbb2"],
      ["filename-revision-mismatch", "m/2026_01_03_000000_d60c18774a5d_third.ts", "ccccccccccc3"],
    ],
  );
  match(warnings[0].message, /rename it to 2026_01_02_000000_bbbbbbbbbbb2_second\.sql/);
  match(warnings[1].message, /names revision d60c18774a5d but the file declares ccccccccccc3/);
  deepStrictEqual(revisions[1].warnings, [warnings[0].message]);
});

Deno.test("loadChain: malformed names and failing imports are errors naming the file", async () => {
  await rejects(
    loadChain(memorySource({ "m/2026_01_01_0000_bad.sql": sql("a") }), "m"),
    /^MigrationFileError: Cannot load m\/2026_01_01_0000_bad\.sql: Cannot parse migration filename/,
  );
  await rejects(
    loadChain(memorySource({ "m/2026_01_01_000000_aaaaaaaaaaa1_x.ts": "" }), "m"),
    /^MigrationFileError: Cannot load m\/2026_01_01_000000_aaaaaaaaaaa1_x\.ts: the module failed to import: boom/,
  );
  await rejects(
    loadChain(memorySource({ "m/2026_01_01_000000_aaaaaaaaaaa1_x.sql": "-- migrate:up\n" }), "m"),
    /Cannot load m\/2026_01_01_000000_aaaaaaaaaaa1_x\.sql:1: missing header/,
  );
});

Deno.test("checksumText: SHA-256 hex, line endings normalised", async () => {
  equal(await checksumText(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  equal(await checksumText("a\r\nb\rc"), await checksumText("a\nb\nc"));
});

Deno.test("a revision ID longer than the version column (32) is refused when loading", async () => {
  const long = "a".repeat(33);
  await rejects(
    parseSqlMigration(
      `-- revision: ${long}\n-- down_revision: none\n-- migrate:up\nSELECT 1;\n`,
      "x.sql",
    ),
    /longer than 32 characters/,
  );
  await rejects(
    revisionFromModule({ revision: long, downRevision: null, upgrade() {} }, "x.ts", ""),
    /longer than 32 characters/,
  );
});

Deno.test("both loaders refuse the same revision IDs", async () => {
  // `-`/`+` would read as a relative step, `@` as a branch, `:` as a range, a space as two words.
  for (const id of ["ab-c1234", "abc+1234", "lbl@abcd", "abcd:efgh", "abc d", "abcdé"]) {
    await rejects(
      parseSqlMigration(`-- revision: ${id}\n-- down_revision: none\n-- migrate:up\n`, "x.sql"),
      (error: Error) =>
        error instanceof MigrationFileError && /must be letters/.test(error.message),
      id,
    );
    await rejects(
      revisionFromModule({ revision: id, downRevision: null, upgrade() {} }, "x.ts", ""),
      (error: Error) =>
        error instanceof MigrationFileError && /must be letters/.test(error.message),
      id,
    );
  }
  for (const id of ["abcd1234", "Rev_2", "a".repeat(32)]) {
    equal((await parseSqlMigration(sql(id), "x.sql")).revision, id);
    equal(
      (await revisionFromModule({ revision: id, downRevision: null, upgrade() {} }, "x.ts", ""))
        .revision,
      id,
    );
  }
});

Deno.test("loadChain: a .sql file without '-- down_revision:' is not a second base", async () => {
  const path = "m/2026_01_04_000000_bbbb00000004_m.sql";
  await rejects(
    loadChain(
      memorySource({
        "m/2026_01_01_000000_aaaa00000001_first.sql": sql("aaaa00000001"),
        [path]: "-- revision: bbbb00000004\n-- migrate:up\nSELECT 1;\n",
      }),
      "m",
    ),
    (error: Error) => {
      ok(error instanceof MigrationFileError);
      equal(error.file, path);
      match(
        error.message,
        /^Cannot load m\/2026_01_04_000000_bbbb00000004_m\.sql: missing header '-- down_revision: <id>'/,
      );
      return true;
    },
  );
});

Deno.test("COPY ... FROM STDIN is refused; the words in a string or a subquery are not", async () => {
  const file = "m/2026_01_01_000000_c0ffee000001_copy.sql";
  const upgradeOf = async (up: string) =>
    (await parseSqlMigration(
      `-- revision: c0ffee000001\n-- down_revision: none\n\n-- migrate:up\n${up}\n`,
      file,
    )).upgrade as SqlStep;
  const copying = await upgradeOf("COPY a (id) FROM stdin;\n1\n\\.");
  let refused: unknown = null;
  try {
    void copying.statements;
  } catch (error) {
    refused = error;
  }
  ok(refused instanceof MigrationFileError, String(refused));
  match(String((refused as Error).message), /COPY \.\.\. FROM STDIN is not supported/);
  const exporting = await upgradeOf("COPY (SELECT 'read from stdin') TO '/tmp/out.csv';");
  equal(exporting.statements.length, 1);
});
