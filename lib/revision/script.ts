/**
 * Loaders: turn migration files (`.sql` text, `.ts` module exports) into `Revision` records.
 *
 * The file system is injected as a `ScriptSource`, so the same code loads a directory on disk,
 * files embedded in the compiled binary, or in-memory files in tests. Everything here is pure
 * apart from that interface (and checksums, which use the runtime's native SHA-256 on Bun).
 *
 * @module
 */

import { type ParsedFilename, parseFilename, slugify } from "./filename.ts";
import type { MigrationStep, Revision, SqlStatement, SqlStep } from "./revision.ts";
import { isSignificant, SqlScanner, tokenize } from "../sql/lexer.ts";
import { nativeSha256Hex } from "../runtime.ts";

/** A migration file that cannot be loaded; `file` (and `line` when known) say where. */
export class MigrationFileError extends Error {
  /** The file's path as given to the loader. */
  readonly file: string;
  /** 1-based line of the problem, when it has one. */
  readonly line?: number;
  /**
   * Reports a migration file that cannot be loaded.
   *
   * @param file The file's path.
   * @param why What is wrong with it; the message is `Cannot load <file>[:<line>]: <why>`.
   * @param line The 1-based line of the problem, when it has one.
   * @param options The underlying error as `cause`, if any.
   */
  constructor(file: string, why: string, line?: number, options?: ErrorOptions) {
    super(`Cannot load ${file}${line === undefined ? "" : `:${line}`}: ${why}`, options);
    this.name = "MigrationFileError";
    this.file = file;
    this.line = line;
  }
}

/** The file access `loadChain` needs; the caller implements it for disk or embedded files. */
export interface ScriptSource {
  /** Entry names (not paths) in `dir`. */
  listDir(dir: string): Promise<string[]>;
  readText(path: string): Promise<string>;
  importModule(path: string): Promise<Record<string, unknown>>;
}

/** A non-fatal problem found while loading a chain. */
export interface LoadWarning {
  readonly kind: "filename-without-revision" | "filename-revision-mismatch";
  readonly file: string;
  readonly revision: string;
  readonly message: string;
}

/**
 * SHA-256 (lowercase hex) of `text` with CRLF and CR line endings normalised to LF, so a file
 * checked out on Windows has the same checksum as on Linux.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { checksumText } from "./script.ts";
 * ok((await checksumText("a\r\nb")) === (await checksumText("a\nb")));
 * ```
 */
export function checksumText(text: string): Promise<string> {
  return Promise.resolve(checksumSync(text));
}

function checksumSync(text: string): string {
  // Synchronous on purpose: `crypto.subtle.digest` costs tens of microseconds a call in thread
  // hops, which dominated loading long chains; migration files are small.
  const normalised = text.includes("\r") ? text.replace(/\r\n?/g, "\n") : text;
  return nativeSha256Hex
    ? nativeSha256Hex(normalised)
    : sha256Hex(new TextEncoder().encode(normalised));
}

const SHA256_K = new Int32Array([
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
]);

/** SHA-256 (FIPS 180-4) of `data`, as lowercase hex. */
function sha256Hex(data: Uint8Array): string {
  // All arithmetic stays in int32 (`| 0`) so the JIT keeps it in integer registers.
  const bitLength = data.length * 8;
  const padded = new Uint8Array(((data.length + 9 + 63) >> 6) << 6);
  padded.set(data);
  padded[data.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bitLength / 0x100000000));
  view.setUint32(padded.length - 4, bitLength >>> 0);
  const h = new Int32Array([
    0x6a09e667,
    0xbb67ae85 | 0,
    0x3c6ef372,
    0xa54ff53a | 0,
    0x510e527f,
    0x9b05688c | 0,
    0x1f83d9ab,
    0x5be0cd19,
  ]);
  const w = new Int32Array(64);
  for (let offset = 0; offset < padded.length; offset += 64) {
    for (let t = 0, i = offset; t < 16; t++, i += 4) {
      w[t] = (padded[i] << 24) | (padded[i + 1] << 16) | (padded[i + 2] << 8) | padded[i + 3];
    }
    for (let t = 16; t < 64; t++) {
      const x = w[t - 15];
      const y = w[t - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
    }
    let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (let t = 0; t < 64; t++) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + s1 + ch + SHA256_K[t] + w[t]) | 0;
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + s0 + maj) | 0;
    }
    h[0] = (h[0] + a) | 0;
    h[1] = (h[1] + b) | 0;
    h[2] = (h[2] + c) | 0;
    h[3] = (h[3] + d) | 0;
    h[4] = (h[4] + e) | 0;
    h[5] = (h[5] + f) | 0;
    h[6] = (h[6] + g) | 0;
    h[7] = (h[7] + hh) | 0;
  }
  let hex = "";
  for (let i = 0; i < 8; i++) hex += (h[i] >>> 0).toString(16).padStart(8, "0");
  return hex;
}

function baseName(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i < 0 ? path : path.slice(i + 1);
}

function parseFilenameFor(path: string): ParsedFilename | null {
  try {
    return parseFilename(baseName(path));
  } catch {
    // A path handed to a parser directly (tests, `show FILE`) need not follow the convention.
    return null;
  }
}

/** The longest revision ID the version table holds (`version_num VARCHAR(32)`). */
const MAX_REVISION_LENGTH = 32;

/**
 * Refuse a revision ID the version table or the target syntax cannot hold: only letters,
 * digits and underscores (a `-` or `+` would read as a relative step, `@` and `:` as a branch
 * or a range), at most `MAX_REVISION_LENGTH` characters. Both loaders apply it.
 */
function checkRevisionId(revision: string, path: string, line?: number): void {
  if (!/^[A-Za-z0-9_]+$/.test(revision)) {
    throw new MigrationFileError(
      path,
      `revision '${revision}' must be letters, digits and underscores`,
      line,
    );
  }
  if (revision.length > MAX_REVISION_LENGTH) {
    throw new MigrationFileError(
      path,
      `revision '${revision}' is longer than ${MAX_REVISION_LENGTH} characters, the size of ` +
        "the version table's column (Alembic's VARCHAR(32))",
      line,
    );
  }
}

/** The empty list, shared: most revisions have no labels, no dependencies, no warnings. */
const NONE: readonly string[] = Object.freeze([]);

function splitIds(value: string): readonly string[] {
  const trimmed = value.trim();
  if (trimmed === "" || /^none$/i.test(trimmed)) return NONE;
  return trimmed.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** The line starting at `start` begins with `--` after blanks. */
function startsWithComment(text: string, start: number): boolean {
  let i = start;
  while (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9) i++;
  return text.charCodeAt(i) === 45 && text.charCodeAt(i + 1) === 45; // "--"
}

const HEADER_KEYS = new Set([
  "revision",
  "down_revision",
  "branch_labels",
  "depends_on",
  "message",
]);
const MARKER = /^--\s*migrate:(\S*)(.*)$/;
const HEADER_LINE = /^--\s*([a-z_]+)\s*:(.*)$/;

/**
 * Parse a `.sql` migration (header, `-- migrate:up`, optional `-- migrate:down`) into a
 * revision record. Errors are `MigrationFileError`s naming `path` and the line.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { parseSqlMigration } from "./script.ts";
 * const rev = await parseSqlMigration(
 *   "-- revision: 5952a5498b51\n-- down_revision: none\n-- migrate:up\nCREATE TABLE t (id INT);\n",
 *   "t.sql",
 * );
 * ok(rev.upgrade.kind === "sql" && rev.upgrade.statements[0].line === 4);
 * ```
 */
export function parseSqlMigration(text: string, path: string): Promise<Revision> {
  // Parsing is synchronous; the Promise keeps the loader interface uniform with `.ts` modules
  // and turns errors into rejections.
  try {
    return Promise.resolve(parseSqlText(text, path));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** `parsedName`: the file's name as `parseFilename` read it, when the caller has it already. */
function parseSqlText(text: string, path: string, parsedName?: ParsedFilename): Revision {
  const normalised = text.includes("\r") ? text.replace(/\r\n?/g, "\n") : text;
  const header = new Map<string, { value: string; line: number }>();
  // start/end: character offsets of the section's body in `normalised`; line: its first line.
  type Section = {
    direction: "up" | "down";
    transactional: boolean;
    line: number;
    start: number;
    end: number;
  };
  const sections: Section[] = [];
  let current: Section | null = null;
  // Walk lines by offset rather than splitting: section bodies are never copied line by line.
  let offset = 0;
  let lineNo = 0;
  while (offset <= normalised.length) {
    lineNo++;
    const lineStart = offset;
    const newline = normalised.indexOf("\n", offset);
    const lineEnd = newline < 0 ? normalised.length : newline;
    offset = lineEnd + 1;
    // Inside a section only `--` lines can be markers; skip the rest without allocating.
    if (current && !startsWithComment(normalised, lineStart)) continue;
    const line = normalised.slice(lineStart, lineEnd).trim();
    const marker = MARKER.exec(line);
    if (marker) {
      const direction = marker[1];
      if (direction !== "up" && direction !== "down") {
        throw new MigrationFileError(
          path,
          `unknown marker '-- migrate:${direction}'; expected '-- migrate:up' or '-- migrate:down'`,
          lineNo,
        );
      }
      let transactional = true;
      for (const option of marker[2].trim().split(/\s+/).filter((o) => o !== "")) {
        const m = /^transaction:(true|false)$/.exec(option);
        if (!m) {
          throw new MigrationFileError(
            path,
            `unknown option '${option}' on '-- migrate:${direction}'; expected 'transaction:false'`,
            lineNo,
          );
        }
        transactional = m[1] === "true";
      }
      const previous = sections.find((s) => s.direction === direction);
      if (previous) {
        throw new MigrationFileError(
          path,
          `second '-- migrate:${direction}' section (the first starts at line ${
            previous.line - 1
          })`,
          lineNo,
        );
      }
      if (current) current.end = lineStart;
      current = {
        direction,
        transactional,
        line: lineNo + 1,
        start: Math.min(offset, normalised.length),
        end: normalised.length,
      };
      sections.push(current);
      continue;
    }
    if (current) continue;
    if (line === "") continue;
    const headerMatch = HEADER_LINE.exec(line);
    if (headerMatch && HEADER_KEYS.has(headerMatch[1])) {
      const key = headerMatch[1];
      if (header.has(key)) {
        throw new MigrationFileError(
          path,
          `header '${key}' given twice (first at line ${header.get(key)!.line})`,
          lineNo,
        );
      }
      header.set(key, { value: headerMatch[2].trim(), line: lineNo });
    } else if (headerMatch) {
      throw new MigrationFileError(
        path,
        `bad header line: unknown key '${headerMatch[1]}'; expected one of ${
          [...HEADER_KEYS].join(", ")
        }`,
        lineNo,
      );
    } else if (!line.startsWith("--")) {
      throw new MigrationFileError(
        path,
        "bad header line: SQL before the first '-- migrate:up' marker; put statements in a section",
        lineNo,
      );
    }
    // Other `--` lines before the first marker are free comments.
  }
  const revision = header.get("revision")?.value ?? "";
  if (revision === "") {
    throw new MigrationFileError(
      path,
      "missing header '-- revision: <id>' before the first marker",
      header.get("revision")?.line ?? 1,
    );
  }
  checkRevisionId(revision, path, header.get("revision")!.line);
  const downRevision = header.get("down_revision");
  if (!downRevision) {
    // A forgotten header would silently make a second base, which `upgrade heads` would run
    // before the chain it was written on: absence is an error, like a `.ts` file's.
    throw new MigrationFileError(
      path,
      "missing header '-- down_revision: <id>' before the first marker (use 'none' for the " +
        "first migration of a chain)",
    );
  }
  if (downRevision.value === "") {
    throw new MigrationFileError(
      path,
      "header 'down_revision' is empty; name the parent revision, or 'none' for the first " +
        "migration of a chain",
      downRevision.line,
    );
  }
  const up = sections.find((s) => s.direction === "up");
  if (!up) {
    throw new MigrationFileError(path, "no '-- migrate:up' section", lineNo);
  }
  const step = (section: Section): SqlStep =>
    new LazySqlStep(
      normalised,
      section.start,
      section.end,
      section.line,
      section.transactional,
      path,
    );
  const down = sections.find((s) => s.direction === "down");
  const message = header.get("message")?.value ?? "";
  return buildRevision({
    revision,
    downRevisions: splitIds(downRevision.value),
    branchLabels: splitIds(header.get("branch_labels")?.value ?? ""),
    dependsOn: splitIds(header.get("depends_on")?.value ?? ""),
    message,
    path,
    parsedName,
    text,
    upgrade: step(up),
    downgrade: down ? step(down) : null,
  });
}

/**
 * A `.sql` section whose statements are split on first use: commands that only need the graph
 * (current, heads) never pay for it. A class, not a closure per section: long chains keep
 * thousands of these alive.
 */
class LazySqlStep implements SqlStep {
  readonly kind = "sql";
  #statements: SqlStatement[] | undefined;
  constructor(
    private readonly text: string,
    private readonly start: number,
    private readonly end: number,
    private readonly line: number,
    readonly transactional: boolean,
    private readonly path: string,
  ) {}
  get statements(): SqlStatement[] {
    if (this.#statements) return this.#statements;
    const statements = splitSqlStatements(this.text.slice(this.start, this.end), {
      firstLine: this.line,
    });
    for (const statement of statements) {
      // Its rows follow in the file, which the server would read as the next statements.
      if (copiesFromClient(statement.sql)) {
        throw new MigrationFileError(
          this.path,
          "COPY ... FROM STDIN is not supported in a migration (its rows would have to come " +
            "from the client); use INSERT, or COPY from a file on the database server",
          statement.line,
        );
      }
    }
    return this.#statements = statements;
  }
}

/**
 * `COPY ... FROM STDIN` (pg_dump's data blocks), whose rows the client would have to send: the
 * words FROM STDIN outside parentheses and strings (`COPY (SELECT 'from stdin') TO ...` is not).
 */
function copiesFromClient(sql: string): boolean {
  if (!/^copy\b/i.test(sql)) return false;
  const tokens = tokenize(sql).filter(isSignificant);
  const word = (i: number) => tokens[i]?.kind === "word" ? tokens[i].text.toUpperCase() : "";
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i].kind === "punct" && tokens[i].text === "(") depth++;
    else if (tokens[i].kind === "punct" && tokens[i].text === ")") depth--;
    else if (depth === 0 && word(i) === "FROM" && word(i + 1) === "STDIN") return true;
  }
  return false;
}

function buildRevision(
  fields: {
    revision: string;
    downRevisions: readonly string[];
    branchLabels: readonly string[];
    dependsOn: readonly string[];
    message: string;
    path: string;
    /** The file name as read by `parseFilename`, when known (else read here from `path`). */
    parsedName?: ParsedFilename;
    text: string;
    upgrade: MigrationStep;
    downgrade: MigrationStep | null;
  },
): Revision {
  const filename = baseName(fields.path);
  const parsed = fields.parsedName ?? parseFilenameFor(fields.path);
  let warnings: readonly string[] = NONE;
  if (parsed && parsed.revision === null) {
    warnings = [
      `filename ${filename} does not contain its revision ${fields.revision}; rename it to ${parsed.timestamp}_${fields.revision}_${
        parsed.slug || "migration"
      }.${parsed.ext}`,
    ];
  } else if (parsed && parsed.revision !== fields.revision) {
    warnings = [
      `filename ${filename} names revision ${parsed.revision} but the file declares ${fields.revision}; the declared revision is used`,
    ];
  }
  return Object.freeze(
    new RevisionRecord(
      fields,
      filename,
      parsed?.timestamp ?? null,
      parsed?.slug || slugify(fields.message),
      warnings,
    ),
  );
}

/**
 * A loaded revision. A class rather than an object literal with a getter: frozen literals with
 * accessors become dictionary objects several times the size, and a 10,000-revision chain keeps
 * every record alive. The checksum is computed on first read (in a private field, which freezing
 * leaves writable): loading must stay fast for long chains, and only the run log and `check`
 * need it.
 */
class RevisionRecord implements Revision {
  readonly revision: string;
  readonly downRevisions: readonly string[];
  readonly branchLabels: readonly string[];
  readonly dependsOn: readonly string[];
  readonly message: string;
  readonly path: string;
  readonly upgrade: MigrationStep;
  readonly downgrade: MigrationStep | null;
  readonly #text: string;
  #checksum: string | undefined;
  constructor(
    fields: Parameters<typeof buildRevision>[0],
    readonly filename: string,
    readonly timestamp: string | null,
    readonly slug: string,
    readonly warnings: readonly string[],
  ) {
    this.revision = fields.revision;
    this.downRevisions = fields.downRevisions;
    this.branchLabels = fields.branchLabels;
    this.dependsOn = fields.dependsOn;
    this.message = fields.message;
    this.path = fields.path;
    this.upgrade = fields.upgrade;
    this.downgrade = fields.downgrade;
    this.#text = fields.text;
  }
  get checksum(): string {
    return this.#checksum ??= checksumSync(this.#text);
  }
}

/** Options for `splitSqlStatements`. */
export interface SplitOptions {
  /** Line number of the first line of `sql` in its file (default 1). */
  readonly firstLine?: number;
}

/**
 * Split SQL text into statements on top-level `;`. Semicolons inside quotes (`'...'`,
 * `"..."`, `` `...` ``, `[...]`), dollar-quoted strings (`$tag$...$tag$`), `--` and (nested)
 * `/* *\/` comments, and `BEGIN ... END` bodies of `CREATE TRIGGER` (SQLite) or
 * `BEGIN ATOMIC ... END` function bodies (PostgreSQL) do not split. Each statement keeps its
 * internal text, loses leading comments and its terminating semicolon, and records the line
 * its first token starts on. Comment-only and empty statements are dropped.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { splitSqlStatements } from "./script.ts";
 * const statements = splitSqlStatements("SELECT ';';\n-- note\nSELECT 2;");
 * ok(statements.length === 2 && statements[1].line === 3);
 * ```
 */
export function splitSqlStatements(sql: string, options: SplitOptions = {}): SqlStatement[] {
  if (!NEEDS_LEXER.test(sql)) return splitPlain(sql, options.firstLine ?? 1);
  const statements: SqlStatement[] = [];
  let line = options.firstLine ?? 1;
  let start = -1; // index of the current statement's first significant character
  let startLine = line;
  // Words seen at the start of the current statement, to recognise bodies that contain `;`.
  let leadWords: string[] = [];
  let bodyDepth = 0;
  let hasBody = false;
  const finish = (end: number) => {
    if (start >= 0) {
      const text = sql.slice(start, end).trim();
      if (text !== "") statements.push({ sql: text, line: startLine });
    }
    start = -1;
    leadWords = [];
    bodyDepth = 0;
    hasBody = false;
  };
  // PostgreSQL nests block comments; SQLite does not, but nested openers are rare enough in
  // SQLite migrations that following PostgreSQL is the safer reading.
  const scanner = new SqlScanner(sql, { nestedComments: true });
  while (scanner.next()) {
    const { kind, start: at, end } = scanner;
    if (kind !== "space" && kind !== "comment") {
      if (kind === "punct" && sql.charCodeAt(at) === 59) { // ;
        if (bodyDepth === 0) finish(at);
        continue;
      }
      if (start < 0) {
        start = at;
        startLine = line;
      }
      if (kind === "word" && (leadWords.length < 6 || hasBody)) {
        const word = sql.slice(at, end).toUpperCase();
        if (leadWords.length < 6) {
          leadWords.push(word);
          if (
            leadWords[0] === "CREATE" &&
            (word === "TRIGGER" || word === "FUNCTION" || word === "PROCEDURE")
          ) hasBody = true;
        }
        if (hasBody) {
          if (word === "BEGIN" || (word === "CASE" && bodyDepth > 0)) bodyDepth++;
          else if (word === "END" && bodyDepth > 0) bodyDepth--;
        }
      }
    }
    if (kind === "space" || kind === "comment" || kind === "string" || kind === "quoted") {
      for (let k = at; k < end; k++) if (sql.charCodeAt(k) === 10) line++;
    }
  }
  finish(sql.length);
  return statements;
}

/**
 * What only the lexer reads right: quotes, dollar quotes, comments, non-ASCII text (Unicode
 * spaces) and the words that open statement bodies. Text without any of them, most
 * migrations, has a `;` only where a statement ends.
 */
const NEEDS_LEXER = /['"`[$]|--|\/\*|[\u0080-\uffff]|trigger|function|procedure/i;

/**
 * `splitSqlStatements` for text `NEEDS_LEXER` finds nothing in: the same statements and
 * lines, without tokenising (a long chain splits hundreds of files per run).
 */
function splitPlain(sql: string, firstLine: number): SqlStatement[] {
  const statements: SqlStatement[] = [];
  let line = firstLine;
  let from = 0;
  while (from < sql.length) {
    let end = sql.indexOf(";", from);
    if (end < 0) end = sql.length;
    let at = from;
    for (; at < end; at++) {
      const code = sql.charCodeAt(at);
      if (code === 10) line++;
      else if (code !== 32 && (code < 9 || code > 13)) break;
    }
    if (at < end) {
      statements.push({ sql: sql.slice(at, end).trim(), line });
      for (let k = at; k < end; k++) if (sql.charCodeAt(k) === 10) line++;
    }
    from = end + 1;
  }
  return statements;
}

function idList(value: unknown, what: string, path: string): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === "string") return value === "" ? [] : [value];
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return [...value];
  throw new MigrationFileError(
    path,
    `export '${what}' must be a string, an array of strings or null`,
  );
}

/**
 * Build a revision record from a `.ts` migration's exports. `text` is the module's source
 * (for the checksum). Errors are `MigrationFileError`s naming `path`.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { revisionFromModule } from "./script.ts";
 * const rev = await revisionFromModule(
 *   { revision: "5952a5498b51", downRevision: null, upgrade() {} },
 *   "2026_11_21_143005_5952a5498b51_add_labels.ts",
 *   "",
 * );
 * ok(rev.downRevisions.length === 0 && rev.downgrade === null);
 * ```
 */
export function revisionFromModule(
  exports: Record<string, unknown>,
  path: string,
  text: string,
): Promise<Revision> {
  try {
    return Promise.resolve(revisionFromExports(exports, path, text));
  } catch (error) {
    return Promise.reject(error);
  }
}

function revisionFromExports(
  exports: Record<string, unknown>,
  path: string,
  text: string,
): Revision {
  const revision = exports.revision;
  if (typeof revision !== "string" || revision === "") {
    throw new MigrationFileError(path, "missing 'export const revision = \"<id>\"'");
  }
  checkRevisionId(revision, path);
  if (!("downRevision" in exports)) {
    // A typo here would silently make a second base, so absence is an error, not `null`.
    throw new MigrationFileError(
      path,
      "missing 'export const downRevision' (use null for the first migration of a chain)",
    );
  }
  if (typeof exports.upgrade !== "function") {
    throw new MigrationFileError(path, "missing 'export async function upgrade(context)'");
  }
  if (exports.downgrade !== undefined && typeof exports.downgrade !== "function") {
    throw new MigrationFileError(path, "export 'downgrade' must be a function");
  }
  if (exports.transactional !== undefined && typeof exports.transactional !== "boolean") {
    throw new MigrationFileError(path, "export 'transactional' must be true or false");
  }
  if (exports.message !== undefined && typeof exports.message !== "string") {
    throw new MigrationFileError(path, "export 'message' must be a string");
  }
  const transactional = exports.transactional !== false;
  type Run = (context: unknown) => unknown;
  return buildRevision({
    revision,
    downRevisions: idList(exports.downRevision, "downRevision", path),
    branchLabels: idList(exports.branchLabels, "branchLabels", path),
    dependsOn: idList(exports.dependsOn, "dependsOn", path),
    message: (exports.message as string | undefined) ?? "",
    path,
    text,
    upgrade: { kind: "function", run: exports.upgrade as Run, transactional },
    downgrade: typeof exports.downgrade === "function"
      ? { kind: "function", run: exports.downgrade as Run, transactional }
      : null,
  });
}

function joinPath(dir: string, name: string): string {
  if (dir === "" || dir === ".") return name;
  return dir.endsWith("/") || dir.endsWith("\\") ? dir + name : `${dir}/${name}`;
}

/**
 * Load every migration in `dir` (not recursive) through `source`. Files are read in name
 * order (the order Alembic reads them, which only matters for tie-breaking between
 * independent branches); the graph decides apply order. Non-migration files are ignored;
 * a malformed migration is a `MigrationFileError`.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { loadChain, type ScriptSource } from "./script.ts";
 * const files: Record<string, string> = {
 *   "m/2026_11_21_143005_5952a5498b51_init.sql":
 *     "-- revision: 5952a5498b51\n-- down_revision: none\n-- migrate:up\nSELECT 1;\n",
 * };
 * const source: ScriptSource = {
 *   listDir: () => Promise.resolve(Object.keys(files).map((p) => p.slice(2))),
 *   readText: (path) => Promise.resolve(files[path]),
 *   importModule: () => Promise.reject(new Error("no modules")),
 * };
 * const { revisions, warnings } = await loadChain(source, "m");
 * ok(revisions.length === 1 && warnings.length === 0);
 * ```
 */
export async function loadChain(
  source: ScriptSource,
  dir: string,
): Promise<{ revisions: Revision[]; warnings: LoadWarning[] }> {
  const names = [...await source.listDir(dir)].sort();
  const candidates: { path: string; parsed: ParsedFilename }[] = [];
  for (const name of names) {
    const path = joinPath(dir, name);
    let parsed: ParsedFilename | null;
    try {
      parsed = parseFilename(name);
    } catch (error) {
      throw new MigrationFileError(path, (error as Error).message, undefined, { cause: error });
    }
    if (parsed) candidates.push({ path, parsed });
  }
  const revisions = await Promise.all(candidates.map(async ({ path, parsed }) => {
    const text = await source.readText(path);
    if (parsed.ext === "sql") return parseSqlText(text, path, parsed);
    let exports: Record<string, unknown>;
    try {
      exports = await source.importModule(path);
    } catch (error) {
      throw new MigrationFileError(
        path,
        `the module failed to import: ${(error as Error)?.message ?? error}`,
        undefined,
        { cause: error },
      );
    }
    return revisionFromModule(exports, path, text);
  }));
  const warnings: LoadWarning[] = [];
  for (let i = 0; i < revisions.length; i++) {
    const rev = revisions[i];
    const parsed = candidates[i].parsed;
    for (const message of rev.warnings) {
      warnings.push({
        kind: parsed.revision === null ? "filename-without-revision" : "filename-revision-mismatch",
        file: rev.path,
        revision: rev.revision,
        message,
      });
    }
  }
  return { revisions, warnings };
}
