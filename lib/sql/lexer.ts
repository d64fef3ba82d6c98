/**
 * The one SQL lexer: splits SQL text into tokens that keep their exact text, so joining them
 * gives back the input and nothing is lost or normalised by reading.
 *
 * Two kinds of reader sit on it. The `.sql` migration loader (`lib/revision/script.ts`) splits
 * files into statements; the SQLite rebuild planner (`lib/dialect/sqlite_rebuild.ts`) and
 * autogenerate (`lib/autogen/`) read back DDL and expressions a database stores. It knows
 * both dialects' lexical forms: `'...'` strings (with PostgreSQL's backslash-escaped
 * `E'...'`), `$tag$...$tag$` dollar quotes, identifiers quoted with `"`, `` ` `` or `[...]`,
 * and `--` and `/* *\/` comments. Pure: no runtime APIs.
 *
 * @module
 */

/** What a token is. Dollar-quoted and `E'...'` strings are `string`s. */
export type SqlTokenKind = "space" | "comment" | "string" | "quoted" | "word" | "number" | "punct";

/** One token; `text` is exactly as written. */
export interface SqlToken {
  readonly kind: SqlTokenKind;
  readonly text: string;
}

/** Lexical choices that differ between readers. */
export interface LexOptions {
  /**
   * Block comments nest, as in PostgreSQL (`/* a /* b *\/ c *\/` is one comment). SQLite does
   * not nest them, so reading SQLite's own DDL leaves this off (the default).
   */
  readonly nestedComments?: boolean;
}

const SPACE = /\s/;
const DOLLAR_TAG = /\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/y;

function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13) ||
    (code >= 128 && SPACE.test(String.fromCharCode(code)));
}
/** Letters, `_` and any non-ASCII code unit (spaces are tested first). */
function isWordStart(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || code === 95 || code >= 128;
}
function isWordChar(code: number): boolean {
  return isWordStart(code) || (code >= 48 && code <= 57) || code === 36; // digits, `$`
}
function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}
function isNumberChar(code: number): boolean {
  return isDigit(code) || (code >= 97 && code <= 122) || (code >= 65 && code <= 90) ||
    code === 95 || code === 46;
}

/**
 * A cursor over the tokens of `sql` that allocates nothing per token: after each `next()`,
 * `kind`, `start` and `end` describe the current token. `tokenize` and the statement splitter
 * both read through it.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { SqlScanner } from "./lexer.ts";
 * const scanner = new SqlScanner("SELECT $$;$$");
 * const kinds: string[] = [];
 * while (scanner.next()) kinds.push(scanner.kind);
 * ok(kinds.join() === "word,space,string");
 * ```
 */
export class SqlScanner {
  /** The current token's kind. */
  kind: SqlTokenKind = "space";
  /** The current token's first character. */
  start = 0;
  /** One past the current token's last character. */
  end = 0;
  readonly #sql: string;
  readonly #nested: boolean;

  constructor(sql: string, options: LexOptions = {}) {
    this.#sql = sql;
    this.#nested = options.nestedComments ?? false;
  }

  /** Move to the next token; false at the end of the text. */
  next(): boolean {
    const sql = this.#sql;
    const n = sql.length;
    let i = this.end;
    if (i >= n) return false;
    this.start = i;
    const code = sql.charCodeAt(i);
    const following = sql.charCodeAt(i + 1);
    if (isSpace(code)) {
      while (i < n && isSpace(sql.charCodeAt(i))) i++;
      this.kind = "space";
    } else if (code === 45 && following === 45) { // --
      const newline = sql.indexOf("\n", i);
      i = newline < 0 ? n : newline;
      this.kind = "comment";
    } else if (code === 47 && following === 42) { // /*
      i = this.#blockCommentEnd(i);
      this.kind = "comment";
    } else if (code === 39 || code === 34 || code === 96 || code === 91) { // ' " ` [
      i = quoteEnd(sql, i, false);
      this.kind = code === 39 ? "string" : "quoted";
    } else if ((code === 69 || code === 101) && following === 39) { // E'...'
      i = quoteEnd(sql, i + 1, true);
      this.kind = "string";
    } else if (isWordStart(code)) {
      i++;
      while (i < n && isWordChar(sql.charCodeAt(i))) i++;
      this.kind = "word";
    } else if (isDigit(code) || (code === 46 && isDigit(following))) {
      while (i < n && isNumberChar(sql.charCodeAt(i))) i++;
      this.kind = "number";
    } else if (code === 36 && (DOLLAR_TAG.lastIndex = i, DOLLAR_TAG.test(sql))) {
      const tag = sql.slice(i, DOLLAR_TAG.lastIndex);
      const close = sql.indexOf(tag, DOLLAR_TAG.lastIndex);
      i = close < 0 ? n : close + tag.length;
      this.kind = "string";
    } else {
      i++; // a `$1` parameter's `$` is punctuation too
      this.kind = "punct";
    }
    this.end = i;
    return true;
  }

  #blockCommentEnd(i: number): number {
    const sql = this.#sql;
    if (!this.#nested) {
      const end = sql.indexOf("*/", i + 2);
      return end < 0 ? sql.length : end + 2;
    }
    let depth = 1;
    let k = i + 2;
    while (k < sql.length && depth > 0) {
      if (sql[k] === "/" && sql[k + 1] === "*") {
        depth++;
        k += 2;
      } else if (sql[k] === "*" && sql[k + 1] === "/") {
        depth--;
        k += 2;
      } else k++;
    }
    return k;
  }
}

/** End of the quoted token opening at `open`; a doubled closing quote escapes itself. */
function quoteEnd(sql: string, open: number, backslashEscapes: boolean): number {
  const close = sql[open] === "[" ? "]" : sql[open];
  let k = open + 1;
  while (k < sql.length) {
    if (backslashEscapes && sql[k] === "\\") k += 2;
    else if (sql[k] === close) {
      if (close !== "]" && sql[k + 1] === close) k += 2;
      else return k + 1;
    } else k++;
  }
  return sql.length;
}

/**
 * Split SQL text into tokens (whitespace and comments included, so they can be rejoined).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { tokenize } from "./lexer.ts";
 * ok(tokenize("a = 'b'").map((token) => token.kind).join() === "word,space,punct,space,string");
 * ```
 */
export function tokenize(sql: string, options: LexOptions = {}): SqlToken[] {
  const tokens: SqlToken[] = [];
  const scanner = new SqlScanner(sql, options);
  while (scanner.next()) {
    tokens.push({ kind: scanner.kind, text: sql.slice(scanner.start, scanner.end) });
  }
  return tokens;
}

/** The identifier a `word` or `quoted` token names (unquoted), or undefined for other tokens. */
export function identifierOf(token: SqlToken): string | undefined {
  if (token.kind === "word") return token.text;
  if (token.kind !== "quoted") return undefined;
  const inner = token.text.slice(1, -1);
  const open = token.text[0];
  return open === "[" ? inner : inner.replaceAll(open + open, open);
}

/** True for tokens that carry meaning (not whitespace or comments). */
export function isSignificant(token: SqlToken): boolean {
  return token.kind !== "space" && token.kind !== "comment";
}

/**
 * An identifier folded as SQLite compares identifiers: ASCII letters only. `"Été"` and `"été"`
 * are two tables to SQLite, and JavaScript's `toLowerCase` would make them one.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { foldIdentifier } from "./lexer.ts";
 * ok(foldIdentifier("Flow_Run") === "flow_run" && foldIdentifier("Été") === "Été");
 * ```
 */
export function foldIdentifier(name: string): string {
  return name.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/** True when two identifiers name the same thing to SQLite (see {@link foldIdentifier}). */
export function sameIdentifier(a: string, b: string): boolean {
  return a === b || foldIdentifier(a) === foldIdentifier(b);
}

/** True when the SQL names `name` as an identifier anywhere (case-insensitive, SQLite rules). */
export function mentionsIdentifier(sql: string, name: string): boolean {
  const wanted = foldIdentifier(name);
  return tokenize(sql).some((token) => {
    const identifier = identifierOf(token);
    return identifier !== undefined && foldIdentifier(identifier) === wanted;
  });
}

/** Rejoin tokens into text, trimmed. */
export function joinTokens(tokens: readonly SqlToken[]): string {
  return tokens.map((token) => token.text).join("").trim();
}

/** Split tokens at top-level occurrences of a punctuation character (e.g. commas). */
export function splitTopLevel(tokens: readonly SqlToken[], separator: string): SqlToken[][] {
  const parts: SqlToken[][] = [[]];
  let depth = 0;
  for (const token of tokens) {
    if (token.kind === "punct" && token.text === "(") depth++;
    if (token.kind === "punct" && token.text === ")") depth--;
    if (depth === 0 && token.kind === "punct" && token.text === separator) {
      parts.push([]);
    } else {
      parts[parts.length - 1].push(token);
    }
  }
  return parts;
}
