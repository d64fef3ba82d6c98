/**
 * MIGRATION-NOTES.md: the file that pairs each schema change's revision IDs across dialects.
 *
 * ```
 * # Add `labels` column to flow and deployment
 * SQLite: `5952a5498b51`
 * Postgres: `68a44144428d`
 *
 * Optional prose: concerns about upgrade and downgrade.
 * ```
 *
 * Reading is lenient (hand-edited files drift: one or two `#`, a missing space after the colon,
 * missing backticks, `None`, prose before the ID); writing is canonical. `verifyNotes` checks
 * the notes against both chains' graphs. Pure: text in, data out.
 *
 * An entry's IDs come from its _ID block_ only: the first run of `SQLite:`/`Postgres:` lines
 * (blank lines allowed between them), which ends at the first other non-blank line. A key line
 * after that (`- SQLite: this rebuilds the flow table`) is prose, and so is a second line for a
 * dialect the block already named. Lines inside fenced code blocks (```` ``` ```` or `~~~`) are
 * never headings or IDs. A new entry is added with {@link insertEntry}, which inserts its text
 * into the file and leaves every other byte as it was; {@link decodeNotes} refuses bytes that
 * are not UTF-8 text.
 *
 * @module
 */

import type { RevisionGraph } from "./graph.ts";
import type { DialectName } from "./revision.ts";

/** One schema change: its title, the revision in each dialect (null: none), and prose. */
export interface NotesEntry {
  readonly title: string;
  readonly sqlite: string | null;
  readonly postgresql: string | null;
  /** Prose after the IDs, without surrounding blank lines ("" when none). */
  readonly body: string;
  /** 1-based line of the entry's heading in the parsed file (absent for new entries). */
  readonly line?: number;
}

/** A parsed notes file. */
export interface NotesDocument {
  /** Everything before the first entry, without trailing blank lines. */
  readonly preamble: string;
  /** Entries in file order (newest first by convention). */
  readonly entries: readonly NotesEntry[];
}

/** One problem `verifyNotes` found. */
export interface NotesFinding {
  readonly severity: "error" | "warning";
  readonly kind:
    | "unnamed-revision"
    | "unknown-revision"
    | "duplicate-id"
    | "out-of-order"
    | "timestamp-mismatch"
    | "empty-entry";
  readonly message: string;
  readonly dialect?: DialectName;
  readonly revision?: string;
  /** Index of the entry in `entries`, when the finding is about one. */
  readonly entry?: number;
  /** Line of the entry's heading, when known. */
  readonly line?: number;
}

const HEADING = /^#{1,2}(?!#)\s*(.*?)\s*#*\s*$/;
const KEY_LINE = /^\s*(?:[-*]\s*)?(sqlite|postgres(?:ql)?)\s*:\s*(.*)$/i;
const NONE = /^(?:none|null|n\/a|-|—)$/i;
/** A fence line of CommonMark: up to 3 spaces, then 3+ backticks or tildes, then the info. */
const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const BOM = "\uFEFF";

/**
 * For each line, whether it belongs to a fenced code block (its fence lines included). A fence
 * closes with a line of at least as many of the same character and nothing else; one left open
 * runs to the end of the file, as Markdown renders it.
 */
function fencedLines(lines: readonly string[]): boolean[] {
  const fenced: boolean[] = [];
  let open: string | null = null;
  for (const line of lines) {
    const fence = FENCE.exec(line);
    if (open === null) {
      // A backtick fence's info string may not contain backticks (CommonMark).
      if (fence && !(fence[1][0] === "`" && fence[2].includes("`"))) open = fence[1];
      fenced.push(open !== null);
    } else {
      fenced.push(true);
      if (
        fence && fence[1][0] === open[0] && fence[1].length >= open.length &&
        fence[2].trim() === ""
      ) open = null;
    }
  }
  return fenced;
}

function idFrom(value: string): string | null {
  const quoted = /`([^`]*)`/.exec(value);
  if (quoted) {
    const inner = quoted[1].trim();
    return inner === "" || NONE.test(inner) ? null : inner;
  }
  // No backticks: the ID is the last word (prose may come first: "was 1234abcd").
  const words = value.trim().split(/\s+/).filter((w) => w !== "");
  if (words.length === 0) return null;
  const last = words[words.length - 1].replace(/^[("'*_]+|[)"'*_.,;:]+$/g, "");
  return last === "" || NONE.test(last) ? null : last;
}

function trimBlankLines(lines: string[]): string {
  let start = 0;
  let end = lines.length;
  while (start < end && lines[start].trim() === "") start++;
  while (end > start && lines[end - 1].trim() === "") end--;
  return lines.slice(start, end).join("\n");
}

/**
 * Parse a notes file. A heading starts an entry only once entries have begun or when its block
 * names a dialect, so a title heading above the entries stays in the preamble.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { parseNotes } from "./notes.ts";
 * const doc = parseNotes("# Notes\n\n## Add labels\nSQLite:5952a5498b51\nPostgres: `None`\n");
 * ok(doc.preamble === "# Notes" && doc.entries[0].sqlite === "5952a5498b51");
 * ok(doc.entries[0].postgresql === null);
 * ```
 */
export function parseNotes(text: string): NotesDocument {
  const lines = text.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n").split("\n");
  const fenced = fencedLines(lines);
  const isKey = (i: number) => !fenced[i] && KEY_LINE.test(lines[i]);
  // Split into blocks at headings; a block is [heading line index, following lines].
  const headingAt: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!fenced[i] && HEADING.test(lines[i])) headingAt.push(i);
  }
  const blockNamesDialect = (h: number) => {
    const end = headingAt.find((x) => x > h) ?? lines.length;
    for (let i = h + 1; i < end; i++) if (isKey(i)) return true;
    return false;
  };
  const first = headingAt.find(blockNamesDialect);
  if (first === undefined) return { preamble: trimBlankLines(lines), entries: [] };
  const entries: NotesEntry[] = [];
  const starts = headingAt.filter((h) => h >= first);
  for (let b = 0; b < starts.length; b++) {
    const start = starts[b];
    const end = starts[b + 1] ?? lines.length;
    const ids: { sqlite?: string | null; postgresql?: string | null } = {};
    // The ID block: from the first key line to the first other non-blank line.
    let block: "before" | "in" | "after" = "before";
    const body: string[] = [];
    for (let i = start + 1; i < end; i++) {
      const key = isKey(i) ? KEY_LINE.exec(lines[i]) : null;
      const dialect = key && (key[1].toLowerCase() === "sqlite" ? "sqlite" : "postgresql");
      if (key && dialect && block !== "after" && !(dialect in ids)) {
        ids[dialect] = idFrom(key[2]);
        block = "in";
        continue;
      }
      if (block === "in" && (fenced[i] || lines[i].trim() !== "")) block = "after";
      body.push(lines[i]);
    }
    entries.push({
      title: HEADING.exec(lines[start])![1],
      sqlite: ids.sqlite ?? null,
      postgresql: ids.postgresql ?? null,
      body: trimBlankLines(body),
      line: start + 1,
    });
  }
  return { preamble: trimBlankLines(lines.slice(0, first)), entries };
}

function formatEntry(entry: NotesEntry): string {
  const id = (value: string | null) => value === null ? "None" : `\`${value}\``;
  const lines = [
    // One line: a line break in the title would end the heading and start its prose.
    `# ${entry.title.replace(/\s*[\r\n]+\s*/g, " ")}`,
    `SQLite: ${id(entry.sqlite)}`,
    `Postgres: ${id(entry.postgresql)}`,
  ];
  if (entry.body.trim() !== "") lines.push("", entry.body.trim());
  return lines.join("\n");
}

/**
 * Write a notes document in canonical form: the preamble, then each entry as a `#` heading,
 * `SQLite:` and `Postgres:` lines with backticked IDs (`None` for no revision), and its prose;
 * one blank line between blocks, one newline at the end.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { formatNotes } from "./notes.ts";
 * const text = formatNotes({
 *   preamble: "# Migration notes",
 *   entries: [{ title: "Add labels", sqlite: "5952a5498b51", postgresql: null, body: "" }],
 * });
 * ok(text === "# Migration notes\n\n# Add labels\nSQLite: `5952a5498b51`\nPostgres: None\n");
 * ```
 */
export function formatNotes(doc: NotesDocument): string {
  const blocks = [doc.preamble.trim(), ...doc.entries.map(formatEntry)].filter((b) => b !== "");
  return blocks.join("\n\n") + "\n";
}

/**
 * Put a new entry first (entries are newest first).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { prependEntry } from "./notes.ts";
 * const doc = prependEntry({ preamble: "", entries: [] }, {
 *   title: "Init", sqlite: "aaaa", postgresql: "bbbb", body: "",
 * });
 * ok(doc.entries.length === 1);
 * ```
 */
export function prependEntry(doc: NotesDocument, entry: NotesEntry): NotesDocument {
  return { preamble: doc.preamble, entries: [entry, ...doc.entries] };
}

/** The offset in `text` where its 0-based line `index` starts (lines as `parseNotes` counts). */
function lineOffset(text: string, index: number): number {
  const separator = /\r\n|\r|\n/g;
  let offset = 0;
  for (let line = 0; line < index; line++) {
    const found = separator.exec(text);
    if (!found) return text.length;
    offset = found.index + found[0].length;
  }
  return offset;
}

/** True when the text's last line is blank (a line ending, then only spaces, then one more). */
function endsWithBlankLine(text: string): boolean {
  return /\n[ \t]*\n$/.test(text.replace(/\r\n?/g, "\n"));
}

/**
 * Add a new entry to a notes file's text: its canonical text is inserted before the first
 * entry (entries are newest first), or after the preamble of a file that has none. Every other
 * byte stays as it was: a UTF-8 byte-order mark, the line endings (the new entry ends its
 * lines as the file's first line ends), the preamble and each entry's text. Throws a `RangeError` saying why when the result
 * would not read back as the new entry followed by the same entries as before (a code fence
 * left open above the insertion point would swallow it, for instance).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { insertEntry } from "./notes.ts";
 * const text = insertEntry("# Notes\r\n\r\n## Old\r\nsqlite: o1\r\n", {
 *   title: "New", sqlite: "n1", postgresql: null, body: "",
 * });
 * ok(text === "# Notes\r\n\r\n# New\r\nSQLite: `n1`\r\nPostgres: None\r\n\r\n## Old\r\nsqlite: o1\r\n");
 * ```
 */
export function insertEntry(text: string, entry: NotesEntry): string {
  const bom = text.startsWith(BOM) ? BOM : "";
  const rest = text.slice(bom.length);
  const eol = /\r\n|\r|\n/.exec(rest)?.[0] ?? "\n";
  const entryText = formatEntry(entry).split("\n").join(eol) + eol;
  const before = parseNotes(rest);
  let result: string;
  if (before.entries.length > 0) {
    const at = lineOffset(rest, before.entries[0].line! - 1);
    const head = rest.slice(0, at);
    const gap = head.trim() === "" || endsWithBlankLine(head) ? "" : eol;
    result = head + gap + entryText + eol + rest.slice(at);
  } else {
    // The new heading starts a line, after a blank one (unless the file is empty).
    const ended = rest === "" || /[\r\n]$/.test(rest);
    const blank = rest.trim() === "" || endsWithBlankLine(rest);
    const gap = (ended ? "" : eol) + (blank ? "" : eol);
    result = rest + gap + entryText;
  }
  const after = parseNotes(result);
  const same = (a: NotesEntry, b: NotesEntry) =>
    a.title === b.title && a.sqlite === b.sqlite && a.postgresql === b.postgresql &&
    a.body === b.body;
  const added = after.entries[0];
  if (
    after.entries.length !== before.entries.length + 1 || after.preamble !== before.preamble ||
    added.sqlite !== entry.sqlite || added.postgresql !== entry.postgresql ||
    added.body !== entry.body.trim() ||
    !before.entries.every((e, i) => same(e, after.entries[i + 1]))
  ) {
    const fence = fencedLines(rest.replace(/\r\n?/g, "\n").split("\n")).at(-1)
      ? " (a code fence is left open: close it with a line of ``` or ~~~)"
      : "";
    throw new RangeError(
      `the new entry would not read back as the first entry, after the same preamble and ` +
        `before the same entries${fence}; add it by hand`,
    );
  }
  return bom + result;
}

/** Where the first byte that is not part of a UTF-8 sequence is, or -1. */
function invalidUtf8At(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    const length = b < 0x80
      ? 1
      : b >= 0xc2 && b <= 0xdf
      ? 2
      : b >= 0xe0 && b <= 0xef
      ? 3
      : b >= 0xf0 && b <= 0xf4
      ? 4
      : 0;
    if (length === 0 || i + length > bytes.length) return i;
    for (let k = 1; k < length; k++) if ((bytes[i + k] & 0xc0) !== 0x80) return i;
    i += length;
  }
  return -1;
}

/**
 * The text of a notes file from its bytes, which must be UTF-8 (a UTF-8 byte-order mark is kept
 * in the text, so it is written back). Throws a `RangeError` saying why for UTF-16 (its
 * byte-order mark, or the NUL characters of UTF-16 text without one) and for bytes that are not
 * UTF-8, naming the line.
 *
 * @example
 * ```ts
 * import { ok, throws } from "node:assert/strict";
 * import { decodeNotes } from "./notes.ts";
 * ok(decodeNotes(new Uint8Array([0x23, 0x20, 0xc3, 0xa9])) === "# é");
 * throws(() => decodeNotes(new Uint8Array([0xff, 0xfe, 0x23, 0x00])), /UTF-16/);
 * throws(() => decodeNotes(new Uint8Array([0x23, 0x0a, 0xe9])), /not UTF-8 .*line 2/);
 * ```
 */
export function decodeNotes(bytes: Uint8Array): string {
  if (
    bytes.length >= 2 &&
    ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
  ) {
    throw new RangeError(
      "it is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8",
    );
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const at = invalidUtf8At(bytes);
    const line = bytes.subarray(0, Math.max(at, 0)).filter((b) => b === 0x0a).length + 1;
    throw new RangeError(
      `it is not UTF-8 text (an invalid byte on line ${line}); save it as UTF-8`,
    );
  }
  if (text.includes("\0")) {
    throw new RangeError("it contains NUL characters (is it UTF-16?); save it as UTF-8");
  }
  return text;
}

const DIALECT_KEYS: readonly [DialectName, "sqlite" | "postgresql", string][] = [
  ["sqlite", "sqlite", "SQLite"],
  ["postgresql", "postgresql", "Postgres"],
];

/**
 * Check a notes document against both chains. Errors: a revision no entry names; an entry
 * naming a revision that is not in its dialect's chain (saying so when it is in the other
 * one); an ID named by two entries; entries out of chain order (a later entry, meant to be
 * older, names a descendant of an earlier one's revision); an entry naming no revision.
 * Warning: an entry whose two files do not share a timestamp.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { parseNotes, verifyNotes } from "./notes.ts";
 * import { RevisionGraph } from "./graph.ts";
 * const empty = new RevisionGraph([]);
 * const findings = verifyNotes(parseNotes("# A\nSQLite: `abcd1234`\nPostgres: None\n"), {
 *   sqlite: empty,
 *   postgresql: empty,
 * });
 * ok(findings[0].kind === "unknown-revision");
 * ```
 */
export function verifyNotes(
  doc: NotesDocument,
  chains: { readonly sqlite: RevisionGraph; readonly postgresql: RevisionGraph },
): NotesFinding[] {
  const findings: NotesFinding[] = [];
  const where = (index: number) => {
    const entry = doc.entries[index];
    return `entry ${index + 1} '${entry.title}'${entry.line ? ` (line ${entry.line})` : ""}`;
  };
  doc.entries.forEach((entry, index) => {
    if (entry.sqlite === null && entry.postgresql === null) {
      findings.push({
        severity: "error",
        kind: "empty-entry",
        message: `Cannot verify ${
          where(index)
        }: it names no revision; add its SQLite and Postgres IDs`,
        entry: index,
        line: entry.line,
      });
    }
  });
  for (const [dialect, key, label] of DIALECT_KEYS) {
    const graph = chains[dialect];
    const other = dialect === "sqlite" ? chains.postgresql : chains.sqlite;
    const otherLabel = dialect === "sqlite" ? "Postgres" : "SQLite";
    const namedBy = new Map<string, number>();
    doc.entries.forEach((entry, index) => {
      const id = entry[key];
      if (id === null) return;
      const previous = namedBy.get(id);
      if (previous !== undefined) {
        findings.push({
          severity: "error",
          kind: "duplicate-id",
          message: `${label} revision ${id} is named by ${where(previous)} and ${
            where(index)
          }; each revision belongs to one entry`,
          dialect,
          revision: id,
          entry: index,
          line: entry.line,
        });
      } else namedBy.set(id, index);
      if (!graph.has(id)) {
        const elsewhere = other.has(id)
          ? ` (it is a revision of the ${otherLabel} chain: is it under the wrong key?)`
          : "";
        findings.push({
          severity: "error",
          kind: "unknown-revision",
          message: `${
            where(index)
          } names ${label} revision ${id}, which is not in the ${dialect} chain${elsewhere}`,
          dialect,
          revision: id,
          entry: index,
          line: entry.line,
        });
      }
    });
    // Newest first: history order is a valid newest-first order of the chain.
    for (const rev of graph.history().slice().reverse()) {
      if (!namedBy.has(rev.revision)) {
        findings.push({
          severity: "error",
          kind: "unnamed-revision",
          message:
            `${label} revision ${rev.revision} (${rev.path}) is not named by any entry; add an entry for it`,
          dialect,
          revision: rev.revision,
        });
      }
    }
    // Order: compare each named revision with the next named one below it in the file.
    let previous: { id: string; index: number } | null = null;
    doc.entries.forEach((entry, index) => {
      const id = entry[key];
      if (id === null || !graph.has(id) || namedBy.get(id) !== index) return;
      if (previous && id !== previous.id && graph.isAncestor(previous.id, id)) {
        findings.push({
          severity: "error",
          kind: "out-of-order",
          message: `${where(index)} is below ${
            where(previous.index)
          } but its ${label} revision ${id} is newer than ${previous.id}; entries go newest first`,
          dialect,
          revision: id,
          entry: index,
          line: entry.line,
        });
      }
      previous = { id, index };
    });
  }
  doc.entries.forEach((entry, index) => {
    const sqlite = entry.sqlite === null ? undefined : chains.sqlite.get(entry.sqlite);
    const postgres = entry.postgresql === null
      ? undefined
      : chains.postgresql.get(entry.postgresql);
    if (sqlite && postgres && sqlite.timestamp !== postgres.timestamp) {
      findings.push({
        severity: "warning",
        kind: "timestamp-mismatch",
        message: `${
          where(index)
        } pairs ${sqlite.filename} with ${postgres.filename}, which do not share a timestamp`,
        entry: index,
        line: entry.line,
      });
    }
  });
  return findings;
}
