/**
 * `revision` and `merge` add their MIGRATION-NOTES.md entry without losing a byte of what the
 * user wrote, refuse a notes file they cannot read or would not rewrite cleanly, and write no
 * migration file unless the notes take the entry (removing them again if writing the notes
 * fails). Real files in a temporary directory, through the library and the command line.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { createMerge, createRevision, NotesFileError } from "../lib/revise.ts";
import { parseNotes } from "../lib/revision/notes.ts";
import { linearChain, revisionId, sqlMigration } from "./support/databases.ts";
import { CLI, runCli, runCommand, type Runtime, runtimeTest } from "./support/runtimes.ts";
import { withTempDir, writeFiles } from "./support/tmp.ts";

const DATE = new Date(Date.UTC(2026, 1, 3, 4, 5, 6));

/** A project with a 3-revision chain in each dialect; returns the migrations root. */
function project(dir: string): string {
  const root = path.join(dir, "migrations");
  writeFiles(path.join(root, "sqlite"), linearChain(3));
  writeFiles(path.join(root, "postgresql"), linearChain(3));
  return root;
}

const [R1, R2, R3] = [revisionId(1), revisionId(2), revisionId(3)];

/** The notes of the review's report: prose key lines, a code block, irregular forms. */
const PREAMBLE = "# Migration notes\r\n\r\nEach schema change, newest first.\r\n\r\n";
const ENTRIES = [
  `# Add t3`,
  `SQLite: \`${R3}\``,
  `Postgres: \`${R3}\``,
  ``,
  `Upgrade concerns:`,
  `- SQLite: this rebuilds the flow table, so it takes a while on big databases.`,
  `Postgres: nothing to do.`,
  ``,
  "```sh",
  `# back up first`,
  `cp app.db app.db.bak`,
  "```",
  ``,
  `## Add t2`,
  `SQLite:${R2}`,
  `- PostgreSQL: was \`${R2}\``,
  ``,
  `#Create t1 #`,
  `Some words first.`,
  ``,
  `sqlite: ${R1}`,
  `Postgres: ${R1}.`,
  `Trailing prose without a final newline.`,
].join("\r\n");
const NOTES = "\uFEFF" + PREAMBLE + ENTRIES;

/** Every file under the migrations root, with its text. */
function snapshot(root: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const dialect of fs.readdirSync(root)) {
    for (const name of fs.readdirSync(path.join(root, dialect))) {
      files[`${dialect}/${name}`] = fs.readFileSync(path.join(root, dialect, name), "utf8");
    }
  }
  return files;
}

Deno.test("revision adds its entry and keeps every byte of the notes", async () => {
  await withTempDir(async (dir) => {
    const root = project(dir);
    const notes = path.join(dir, "MIGRATION-NOTES.md");
    fs.writeFileSync(notes, NOTES);
    const result = await createRevision({ message: "Add t4", dir: root, sql: true, date: DATE });
    const [sqlite, postgres] = result.files.map((f) => f.revision);
    const text = fs.readFileSync(notes, "utf8");
    assert.equal(
      text,
      "\uFEFF" + PREAMBLE +
        `# Add t4\r\nSQLite: \`${sqlite}\`\r\nPostgres: \`${postgres}\`\r\n\r\n` + ENTRIES,
    );
    // The prose's key lines and the code block's comment are prose, not IDs or entries.
    assert.deepEqual(parseNotes(text).entries.map((e) => [e.title, e.sqlite, e.postgresql]), [
      ["Add t4", sqlite, postgres],
      ["Add t3", R3, R3],
      ["Add t2", R2, R2],
      ["Create t1", R1, R1],
    ]);
  });
});

Deno.test("merge adds its entry and keeps every byte of the notes", async () => {
  await withTempDir(async (dir) => {
    const root = project(dir);
    // Two heads in the SQLite chain: a00000000003 and b00000000003.
    writeFiles(path.join(root, "sqlite"), {
      "2026_01_01_000003_b00000000003_branch.sql": sqlMigration("b00000000003", R2, "SELECT 1;"),
    });
    const notes = path.join(dir, "MIGRATION-NOTES.md");
    const text = `# Branch\nSQLite: \`b00000000003\`\nPostgres: None\n\n${ENTRIES}\n`;
    fs.writeFileSync(notes, text);
    const result = await createMerge({
      message: "Merge",
      dir: root,
      sql: true,
      date: DATE,
      dialects: ["sqlite"],
    });
    assert.equal(result.files.length, 1);
    assert.equal(
      fs.readFileSync(notes, "utf8"),
      `# Merge\nSQLite: \`${result.files[0].revision}\`\nPostgres: None\n\n${text}`,
    );
  });
});

/** Run `fn`, which must throw a NotesFileError matching `message`; then nothing has changed. */
async function refused(
  dir: string,
  notes: string,
  fn: () => Promise<unknown>,
  message: RegExp,
): Promise<void> {
  const root = path.join(dir, "migrations");
  const before = snapshot(root);
  const bytes = fs.statSync(notes).isFile() ? fs.readFileSync(notes) : null;
  await assert.rejects(fn, (error) => {
    assert.ok(error instanceof NotesFileError, String(error));
    assert.match(error.message, message);
    return true;
  });
  assert.deepEqual(snapshot(root), before, "no migration file was written");
  if (bytes) assert.deepEqual(fs.readFileSync(notes), bytes, "the notes are unchanged");
}

Deno.test("a notes file that is not UTF-8 is refused, and nothing is written", async () => {
  const utf16le = (text: string) => {
    const bytes = new Uint8Array(text.length * 2);
    for (let i = 0; i < text.length; i++) bytes[2 * i] = text.charCodeAt(i);
    return bytes;
  };
  const body = `# Add t3\nSQLite: \`${R3}\`\nPostgres: None\n`;
  const cases: [string, Uint8Array, RegExp][] = [
    ["UTF-16 with its BOM", new Uint8Array([0xff, 0xfe, ...utf16le(body)]), /UTF-16/],
    ["UTF-16 without a BOM", utf16le(body), /NUL characters \(is it UTF-16\?\)/],
    // "Café" in Latin-1.
    [
      "Latin-1",
      new Uint8Array([...new TextEncoder().encode(body), 0x43, 0x61, 0x66, 0xe9]),
      /not UTF-8 .*line 4/,
    ],
  ];
  for (const [name, bytes, why] of cases) {
    await withTempDir(async (dir) => {
      const root = project(dir);
      const notes = path.join(dir, "MIGRATION-NOTES.md");
      fs.writeFileSync(notes, bytes);
      const message = new RegExp(`^Cannot read notes .*MIGRATION-NOTES\\.md: .*${why.source}`);
      await refused(dir, notes, () => createRevision({ message: name, dir: root }), message);
      await refused(dir, notes, () => createMerge({ message: name, dir: root }), message);
    });
  }
});

Deno.test("a notes file the new entry would not read back from is refused", async () => {
  await withTempDir(async (dir) => {
    const root = project(dir);
    const notes = path.join(dir, "MIGRATION-NOTES.md");
    fs.writeFileSync(notes, "# Migration notes\n\n```\nAn example, never closed.\n");
    await refused(
      dir,
      notes,
      () => createRevision({ message: "Add t4", dir: root }),
      /^Cannot add an entry to notes .*MIGRATION-NOTES\.md: .*a code fence is left open/,
    );
  });
});

Deno.test("notes that cannot be read stop revision before any file is written", async () => {
  await withTempDir(async (dir) => {
    const root = project(dir);
    const notes = path.join(dir, "notes-dir");
    fs.mkdirSync(notes);
    await refused(
      dir,
      notes,
      () => createRevision({ message: "Add t4", dir: root, notes }),
      /^Cannot read notes .*notes-dir: it is a directory$/,
    );
    // A path through a file.
    const file = path.join(dir, "file.md");
    fs.writeFileSync(file, "");
    await refused(
      dir,
      file,
      () => createMerge({ message: "Merge", dir: root, notes: path.join(file, "notes.md") }),
      /^Cannot read notes .*file\.md\/notes\.md: ENOTDIR/,
    );
  });
});

runtimeTest("bad notes and bad usage of revision exit 2 and name the problem", async (runtime) => {
  await withTempDir(async (dir) => {
    const root = project(dir);
    const before = snapshot(root);
    const notesDir = path.join(dir, "notes-dir");
    fs.mkdirSync(notesDir);
    const utf16 = path.join(dir, "utf16.md");
    fs.writeFileSync(utf16, new Uint8Array([0xff, 0xfe, 0x23, 0x00, 0x20, 0x00, 0x41, 0x00]));
    const cases: [string[], RegExp][] = [
      [
        ["--notes", notesDir, "revision", "-m", "x"],
        /error: Cannot read notes .*notes-dir: it is a directory/,
      ],
      [
        ["--notes", notesDir, "merge", "-m", "x"],
        /error: Cannot read notes .*notes-dir: it is a directory/,
      ],
      [
        ["--notes", utf16, "revision", "-m", "x"],
        /error: Cannot read notes .*utf16\.md: it is UTF-16/,
      ],
      [
        ["revision", "-m", "x", "--autogenerate"],
        /error: Cannot autogenerate the postgresql chain without a server/,
      ],
      [
        ["revision", "-m", "x", "--autogenerate", "--dialect", "sqlite"],
        /error: Cannot autogenerate: no schema definition at .*schema\.ts/,
      ],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(runtime, ["--dir", root, ...args]);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.deepEqual(snapshot(root), before, `${args.join(" ")}: no file written`);
    }
  });
});

/** The CLI under a file-size limit (`ulimit -f`, with SIGXFSZ ignored so writes fail EFBIG). */
function runLimited(runtime: Runtime, blocks: number, args: readonly string[]) {
  const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  const argv = [...runtime.command!, CLI, ...args].map(quote).join(" ");
  return runCommand(["sh", "-c", `trap '' XFSZ; ulimit -f ${blocks}; exec ${argv}`]);
}

runtimeTest("a notes write that fails removes the migration files it wrote", async (runtime) => {
  if (process.platform === "win32") return;
  await withTempDir(async (dir) => {
    const root = project(dir);
    const before = snapshot(root);
    const notes = path.join(dir, "MIGRATION-NOTES.md");
    // Larger than the limit (64 blocks: 32 or 64 KiB): its new text cannot be written, while
    // the migration files (about 1 KiB each) can.
    const original = `${PREAMBLE}${ENTRIES}\n\n${"Prose. ".repeat(20_000)}\n`;
    fs.writeFileSync(notes, original);
    const result = await runLimited(runtime, 64, ["--dir", root, "revision", "-m", "Add t4"]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      /error: Cannot write notes .*MIGRATION-NOTES\.md: .*; the new migration files were removed/,
    );
    assert.deepEqual(snapshot(root), before, "the new migration files are gone");
    assert.equal(fs.readFileSync(notes, "utf8"), original, "the notes are unchanged");
    assert.deepEqual(fs.readdirSync(dir).sort(), ["MIGRATION-NOTES.md", "migrations"]);
  });
});

runtimeTest(
  "notes verify and check refuse notes they cannot read, naming the file",
  async (runtime) => {
    await withTempDir(async (dir) => {
      const root = project(dir);
      const notes = path.join(dir, "MIGRATION-NOTES.md");
      fs.writeFileSync(notes, new Uint8Array([0xff, 0xfe, 0x23, 0x00, 0x0a, 0x00]));
      for (const args of [["notes", "verify"], ["check"]]) {
        const result = await runCli(runtime, ["--dir", root, ...args]);
        assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
        assert.match(result.stderr, /MIGRATION-NOTES\.md: it is UTF-16/);
      }
      fs.rmSync(notes);
      fs.mkdirSync(notes);
      const result = await runCli(runtime, ["--dir", root, "notes", "verify"]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /MIGRATION-NOTES\.md: it is a directory/);
    });
  },
);
