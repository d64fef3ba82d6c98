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
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  // Split into blocks at headings; a block is [heading line index, following lines].
  const headingAt: number[] = [];
  for (let i = 0; i < lines.length; i++) if (HEADING.test(lines[i])) headingAt.push(i);
  const blockNamesDialect = (h: number) => {
    const end = headingAt.find((x) => x > h) ?? lines.length;
    for (let i = h + 1; i < end; i++) if (KEY_LINE.test(lines[i])) return true;
    return false;
  };
  const first = headingAt.find(blockNamesDialect);
  if (first === undefined) return { preamble: trimBlankLines(lines), entries: [] };
  const entries: NotesEntry[] = [];
  const starts = headingAt.filter((h) => h >= first);
  for (let b = 0; b < starts.length; b++) {
    const start = starts[b];
    const end = starts[b + 1] ?? lines.length;
    let sqlite: string | null = null;
    let postgresql: string | null = null;
    const body: string[] = [];
    for (let i = start + 1; i < end; i++) {
      const key = KEY_LINE.exec(lines[i]);
      if (key) {
        const id = idFrom(key[2]);
        if (key[1].toLowerCase() === "sqlite") sqlite = id;
        else postgresql = id;
      } else body.push(lines[i]);
    }
    entries.push({
      title: HEADING.exec(lines[start])![1],
      sqlite,
      postgresql,
      body: trimBlankLines(body),
      line: start + 1,
    });
  }
  return { preamble: trimBlankLines(lines.slice(0, first)), entries };
}

function formatEntry(entry: NotesEntry): string {
  const id = (value: string | null) => value === null ? "None" : `\`${value}\``;
  const lines = [
    `# ${entry.title}`,
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
