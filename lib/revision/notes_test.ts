import { deepStrictEqual, equal, match, throws } from "node:assert/strict";
import { RevisionGraph } from "./graph.ts";
import {
  decodeNotes,
  formatNotes,
  insertEntry,
  type NotesEntry,
  parseNotes,
  prependEntry,
  verifyNotes,
} from "./notes.ts";
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

Deno.test("parseNotes: only the ID block names revisions; key lines in the prose stay prose", () => {
  const text = [
    "# Add x",
    "SQLite: `aaaa00000003`",
    "",
    "Postgres: `bbbb00000003`",
    "",
    "Upgrade concerns:",
    "- SQLite: this rebuilds the flow table, so it takes a while on big databases.",
    "Postgres: nothing to worry about.",
    "",
    "# Twice",
    "SQLite: `s1`",
    "SQLite: `s2`",
    "Postgres: None",
  ].join("\n");
  deepStrictEqual(parseNotes(text).entries.map(fields), [
    [
      "Add x",
      "aaaa00000003",
      "bbbb00000003",
      "Upgrade concerns:\n- SQLite: this rebuilds the flow table, so it takes a while on big " +
      "databases.\nPostgres: nothing to worry about.",
    ],
    // A second line for a dialect ends the block: it is prose, and the first one counts.
    ["Twice", "s1", null, "SQLite: `s2`\nPostgres: None"],
  ]);
});

Deno.test("parseNotes: headings and key lines inside fenced code blocks are prose", () => {
  const text = [
    "# Notes",
    "",
    "```md",
    "# Example entry",
    "SQLite: `xxxx`",
    "```",
    "",
    "# Rebuild flow",
    "SQLite: `s2`",
    "Postgres: `p2`",
    "",
    "Back up first:",
    "````sh",
    "# copy the database",
    "```",
    "## still inside: a fence closes with at least as many backticks",
    "````",
    "~~~",
    "# a tilde fence",
    "Postgres: `zzzz`",
    "~~~",
    "",
    "# Init",
    "SQLite: `s1`",
    "Postgres: `p1`",
  ].join("\n");
  const doc = parseNotes(text);
  equal(doc.preamble, "# Notes\n\n```md\n# Example entry\nSQLite: `xxxx`\n```");
  deepStrictEqual(doc.entries.map((e) => [e.title, e.sqlite, e.postgresql, e.line]), [
    ["Rebuild flow", "s2", "p2", 8],
    ["Init", "s1", "p1", 23],
  ]);
  match(doc.entries[0].body, /^Back up first:\n````sh\n# copy the database\n```\n## still/);
  match(doc.entries[0].body, /~~~\n# a tilde fence\nPostgres: `zzzz`\n~~~$/);
  // A fence left open runs to the end of the file, as Markdown renders it.
  deepStrictEqual(
    parseNotes("# A\nSQLite: `a`\n```\n# B\nSQLite: `b`\n").entries.map((e) => e.title),
    ["A"],
  );
});

Deno.test("parseNotes: a UTF-8 byte-order mark does not hide the first heading", () => {
  const doc = parseNotes("\uFEFF# First\nSQLite: `a`\nPostgres: `b`\n");
  deepStrictEqual(doc.entries.map(fields), [["First", "a", "b", ""]]);
});

const NEW: NotesEntry = { title: "New", sqlite: "n1", postgresql: null, body: "" };
const NEW_TEXT = "# New\nSQLite: `n1`\nPostgres: None\n";

Deno.test("insertEntry: inserts the new entry first and keeps every other byte", () => {
  // Irregular entries, prose with key lines, a code block: all kept as written.
  const entries = [
    "## Add x  ",
    "SQLite:aaaa00000003",
    "postgresql: `None`",
    "Upgrade concerns:",
    "- SQLite: this rebuilds the flow table.",
    "```sh",
    "# back up first",
    "```",
    "",
    "",
    "#Init",
    "Some words first.",
    "sqlite: a1",
    "- Postgres: b1",
  ].join("\n");
  const cases: [string, string, string][] = [
    [
      "preamble",
      `# Notes\n\nNewest first.\n\n${entries}`,
      `# Notes\n\nNewest first.\n\n${NEW_TEXT}\n${entries}`,
    ],
    ["no preamble", entries, `${NEW_TEXT}\n${entries}`],
    ["preamble without a blank line", `Notes.\n${entries}`, `Notes.\n\n${NEW_TEXT}\n${entries}`],
    ["no entries yet", "# Notes\n\nNewest first.", `# Notes\n\nNewest first.\n\n${NEW_TEXT}`],
    ["no entries, trailing newline", "# Notes\n", `# Notes\n\n${NEW_TEXT}`],
    ["no entries, blank line", "# Notes\n\n", `# Notes\n\n${NEW_TEXT}`],
    ["empty", "", NEW_TEXT],
    ["blank", " \n\n", ` \n\n${NEW_TEXT}`],
    ["spaces only", "  ", `  \n${NEW_TEXT}`],
  ];
  for (const [name, text, expected] of cases) {
    equal(insertEntry(text, NEW), expected, name);
    const crlf = (s: string) => s.replace(/\n/g, "\r\n");
    // The file's line endings (a file without any gets "\n").
    if (text.includes("\n")) equal(insertEntry(crlf(text), NEW), crlf(expected), `${name}, CRLF`);
    equal(insertEntry(`\uFEFF${text}`, NEW), `\uFEFF${expected}`, `${name}, BOM`);
  }
  const doc = parseNotes(insertEntry(entries, NEW));
  deepStrictEqual(doc.entries.map((e) => [e.sqlite, e.postgresql]), [
    ["n1", null],
    ["aaaa00000003", null],
    ["a1", "b1"],
  ]);
  // A title is one line, whatever the message was.
  equal(
    insertEntry("", { ...NEW, title: "Two\nlines\r\n\r\nSQLite: `x`" }),
    "# Two lines SQLite: `x`\nSQLite: `n1`\nPostgres: None\n",
  );
});

Deno.test("insertEntry: refuses a file the new entry would not read back from", () => {
  throws(
    () => insertEntry("# Notes\n\n```\nan example, never closed\n", NEW),
    /would not read back as the first entry.*a code fence is left open/,
  );
  throws(
    () => insertEntry("# Notes\n~~~\n# Old\nSQLite: `o1`\n", NEW),
    /a code fence is left open/,
  );
});

Deno.test("decodeNotes: UTF-8 only, with the reason for anything else", () => {
  const bytes = (...b: number[]) => new Uint8Array(b);
  equal(decodeNotes(new TextEncoder().encode("# Ünïcode\n")), "# Ünïcode\n");
  equal(decodeNotes(bytes(0xef, 0xbb, 0xbf, 0x23)), "\uFEFF#");
  throws(() => decodeNotes(bytes(0xff, 0xfe, 0x23, 0x00)), /UTF-16 .*byte-order mark/);
  throws(() => decodeNotes(bytes(0xfe, 0xff, 0x00, 0x23)), /UTF-16 .*byte-order mark/);
  throws(() => decodeNotes(bytes(0x23, 0x00, 0x0a, 0x00)), /NUL characters \(is it UTF-16\?\)/);
  throws(() => decodeNotes(bytes(0x23, 0x0a, 0x41, 0x0a, 0xe9, 0x74, 0xe9)), /not UTF-8 .*line 3/);
  throws(() => decodeNotes(bytes(0x41, 0xc3)), /not UTF-8 .*line 1/);
});
