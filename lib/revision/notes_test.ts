import { deepStrictEqual, equal, match } from "node:assert/strict";
import { RevisionGraph } from "./graph.ts";
import { formatNotes, type NotesEntry, parseNotes, prependEntry, verifyNotes } from "./notes.ts";
import { literalRevision } from "./testing.ts";

const r = (revision: string, down: string[], timestamp: string) =>
  literalRevision(revision, down, { timestamp });

const fields = (e: NotesEntry) => [e.title, e.sqlite, e.postgresql, e.body];

Deno.test("parseNotes: canonical and lenient forms", () => {
  const cases: [string, string, [string, string | null, string | null, string][]][] = [
    [
      "canonical",
      "# Add `labels` column\nSQLite: `5952a5498b51`\nPostgres: `68a44144428d`\n\nConcerns here.\n",
      [["Add `labels` column", "5952a5498b51", "68a44144428d", "Concerns here."]],
    ],
    ["two hashes, no space after colon", "## Title\nSQLite:`aaaa1111`\nPostgres:bbbb2222\n", [[
      "Title",
      "aaaa1111",
      "bbbb2222",
      "",
    ]]],
    ["no backticks", "# T\nSQLite: aaaa1111\nPostgreSQL: bbbb2222\n", [[
      "T",
      "aaaa1111",
      "bbbb2222",
      "",
    ]]],
    ["None forms", "# T\nSQLite: None\nPostgres: `None`\n", [["T", null, null, ""]]],
    ["prose before the ID", "# T\nSQLite: was changed in `aaaa1111`\nPostgres: see bbbb2222.\n", [[
      "T",
      "aaaa1111",
      "bbbb2222",
      "",
    ]]],
    [
      "prose before the ID lines",
      "# T\nSome words first.\n\nsqlite: aaaa1111\n- Postgres: bbbb2222\n",
      [["T", "aaaa1111", "bbbb2222", "Some words first."]],
    ],
    ["no space after hash", "#T\nSQLite: a1b2c3d4\nPostgres: None\n", [[
      "T",
      "a1b2c3d4",
      null,
      "",
    ]]],
    [
      "several entries",
      "# New\nSQLite: `n1`\nPostgres: `n2`\n\n# Old\nSQLite: `o1`\nPostgres: `o2`\nMultiline\nprose.\n\n",
      [["New", "n1", "n2", ""], ["Old", "o1", "o2", "Multiline\nprose."]],
    ],
    ["CRLF", "# T\r\nSQLite: `a`\r\nPostgres: `b`\r\n", [["T", "a", "b", ""]]],
  ];
  for (const [name, text, expected] of cases) {
    const doc = parseNotes(text);
    deepStrictEqual(doc.entries.map(fields), expected, name);
  }
});

Deno.test("parseNotes: preamble keeps title headings and prose without IDs", () => {
  const text =
    "# Migration notes\n\nHow to read this file.\n\n## Conventions\nNewest first.\n\n# First change\nSQLite: `a`\nPostgres: `b`\n";
  const doc = parseNotes(text);
  equal(
    doc.preamble,
    "# Migration notes\n\nHow to read this file.\n\n## Conventions\nNewest first.",
  );
  deepStrictEqual(doc.entries.map(fields), [["First change", "a", "b", ""]]);
  equal(doc.entries[0].line, 8);
  deepStrictEqual(parseNotes("Just prose.\n").entries, []);
  equal(parseNotes("Just prose.\n").preamble, "Just prose.");
});

Deno.test("formatNotes: canonical output, stable under re-parsing", () => {
  const lenient =
    "# Notes\n\n##  Add labels \nSQLite:5952a5498b51\npostgresql: None\n\n\nProse.\n# Init\nSQLite: `a1`\nPostgres: `b1`";
  const canonical = formatNotes(parseNotes(lenient));
  equal(
    canonical,
    "# Notes\n\n# Add labels\nSQLite: `5952a5498b51`\nPostgres: None\n\nProse.\n\n# Init\nSQLite: `a1`\nPostgres: `b1`\n",
  );
  equal(formatNotes(parseNotes(canonical)), canonical);
  equal(formatNotes({ preamble: "", entries: [] }), "\n");
});

Deno.test("prependEntry: new entries go first", () => {
  const doc = parseNotes("# Notes\n\n# Old\nSQLite: `o1`\nPostgres: `o2`\n");
  const next = prependEntry(doc, { title: "New", sqlite: "n1", postgresql: null, body: "" });
  deepStrictEqual(next.entries.map((e) => e.title), ["New", "Old"]);
  match(formatNotes(next), /^# Notes\n\n# New\nSQLite: `n1`\nPostgres: None\n\n# Old\n/);
});

Deno.test("verifyNotes: reports each kind of defect", () => {
  const sqlite = new RevisionGraph([
    r("s1", [], "2026_01_01_000000"),
    r("s2", ["s1"], "2026_01_02_000000"),
    r("s3", ["s2"], "2026_01_03_000000"),
    r("s4", ["s3"], "2026_01_04_000000"),
  ]);
  const postgresql = new RevisionGraph([
    r("p1", [], "2026_01_01_000000"),
    r("p2", ["p1"], "2026_01_02_000000"),
    r("p3", ["p2"], "2026_01_03_999999"),
    r("shared", ["p3"], "2026_01_04_000000"),
  ]);
  const doc = parseNotes([
    "# Third",
    "SQLite: `s2`", // out of order: s3 is named further down but is newer
    "Postgres: `p3`",
    "# Second",
    "SQLite: `s3`",
    "Postgres: `s4`", // a SQLite revision under the Postgres key
    "# First",
    "SQLite: `s1`",
    "Postgres: `p1`",
    "# Duplicate",
    "SQLite: `s1`",
    "Postgres: None",
    "# Nothing",
    "SQLite: None",
    "Postgres: None",
    "# Ghost",
    "SQLite: `zzzz`",
    "Postgres: None",
  ].join("\n"));
  const findings = verifyNotes(doc, { sqlite, postgresql });
  const summary = findings.map((f) =>
    `${f.severity} ${f.kind} ${f.dialect ?? "-"} ${f.revision ?? "-"}`
  );
  deepStrictEqual(
    summary.sort(),
    [
      "error duplicate-id sqlite s1",
      "error empty-entry - -",
      "error out-of-order sqlite s3",
      "error unknown-revision postgresql s4",
      "error unknown-revision sqlite zzzz",
      "error unnamed-revision postgresql p2",
      "error unnamed-revision postgresql shared",
      "error unnamed-revision sqlite s4",
      "warning timestamp-mismatch - -",
    ].sort(),
  );
  const byKind = (kind: string, revision?: string) =>
    findings.find((f) => f.kind === kind && (!revision || f.revision === revision))!.message;
  match(
    byKind("unknown-revision", "zzzz"),
    /entry 6 'Ghost' \(line 16\) names SQLite revision zzzz, which is not in the sqlite chain$/,
  );
  match(
    byKind("unknown-revision", "s4"),
    /Postgres revision s4, which is not in the postgresql chain \(it is a revision of the SQLite chain/,
  );
  match(
    byKind("duplicate-id"),
    /SQLite revision s1 is named by entry 3 'First' \(line 7\) and entry 4 'Duplicate' \(line 10\)/,
  );
  match(
    byKind("out-of-order"),
    /entry 2 'Second' \(line 4\) is below entry 1 'Third' \(line 1\) but its SQLite revision s3 is newer than s2/,
  );
  match(
    byKind("timestamp-mismatch"),
    /pairs 2026_01_02_000000_s2\.sql with 2026_01_03_999999_p3\.sql/,
  );
  match(byKind("unnamed-revision"), /is not named by any entry; add an entry for it/);
});

Deno.test("verifyNotes: a clean file has no findings", () => {
  const sqlite = new RevisionGraph([
    r("s1", [], "2026_01_01_000000"),
    r("s2", ["s1"], "2026_01_02_000000"),
  ]);
  const postgresql = new RevisionGraph([
    r("p1", [], "2026_01_01_000000"),
    r("p2", ["p1"], "2026_01_02_000000"),
  ]);
  const doc = parseNotes(
    "# Two\nSQLite: `s2`\nPostgres: `p2`\n\n# One\nSQLite: `s1`\nPostgres: `p1`\n",
  );
  deepStrictEqual(verifyNotes(doc, { sqlite, postgresql }), []);
});
