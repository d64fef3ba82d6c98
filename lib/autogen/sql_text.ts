/**
 * SQL text as autogenerate compares it: expressions a database reports back (defaults, CHECK
 * expressions, index predicates) are rarely spelled as they were written. PostgreSQL adds
 * parentheses and casts (`'a'::character varying`), SQLite keeps the text but not the case of
 * keywords. Both sides of a comparison go through {@link normaliseSql} first.
 *
 * @module
 */

import { isSignificant, type SqlToken, tokenize } from "../sql/lexer.ts";
import type { ColumnType, DefaultValue } from "../ops/types.ts";

/** The index of the `)` that closes the `(` at `open`, or -1. */
export function matchingParen(tokens: readonly SqlToken[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const token = tokens[i];
    if (token.kind !== "punct") continue;
    if (token.text === "(") depth++;
    if (token.text === ")" && --depth === 0) return i;
  }
  return -1;
}

/** Remove parentheses that wrap the whole text: `((a > 0))` is `a > 0`. */
export function stripOuterParens(text: string): string {
  let current = text.trim();
  for (;;) {
    const tokens = tokenize(current);
    const first = tokens.findIndex(isSignificant);
    if (first < 0 || tokens[first].text !== "(") return current;
    const close = matchingParen(tokens, first);
    if (close < 0 || tokens.slice(close + 1).some(isSignificant)) return current;
    current = tokens.slice(first + 1, close).map((token) => token.text).join("").trim();
  }
}

/**
 * A canonical spelling for comparison: outer parentheses and casts (`::type`) removed, words
 * lower-cased, quoted identifiers unquoted when plain, whitespace dropped, numeric string
 * literals unquoted, `true`/`false` as `1`/`0`.
 *
 * @example
 * ```ts
 * import { normaliseSql } from "./sql_text.ts";
 * normaliseSql("('active'::character varying)"); // "'active'"
 * normaliseSql("(\"Name\" IS NOT NULL)") === normaliseSql("name is not null"); // true
 * ```
 */
export function normaliseSql(text: string): string {
  const tokens = tokenize(stripOuterParens(text)).filter(isSignificant);
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token.kind === "punct" && token.text === ":" && tokens[i + 1]?.text === ":") {
      // A cast: skip `::type`, `::type(...)`, `::character varying`, `::text[]`.
      i += 2;
      while (i + 1 < tokens.length && tokens[i + 1].kind === "word" && isTypeWord(tokens[i + 1])) {
        i++;
      }
      if (tokens[i + 1]?.text === "(") {
        const close = matchingParen(tokens, i + 1);
        if (close > 0) i = close;
      }
      while (tokens[i + 1]?.text === "[" && tokens[i + 2]?.text === "]") i += 2;
      continue;
    }
    if (token.kind === "word") {
      const lower = token.text.toLowerCase();
      out.push(lower === "true" ? "1" : lower === "false" ? "0" : lower);
    } else if (token.kind === "quoted") {
      out.push(token.text.slice(1, -1).replaceAll('""', '"').toLowerCase());
    } else if (token.kind === "string" && /^'-?\d+(\.\d+)?'$/.test(token.text)) {
      out.push(token.text.slice(1, -1));
    } else {
      out.push(token.text);
    }
  }
  // Joined without spaces: only equality matters, and `- 1` must equal `-1`.
  return stripRedundantParens(out).join("");
}

const TYPE_WORDS = new Set([
  "varying",
  "precision",
  "with",
  "without",
  "time",
  "zone",
]);

function isTypeWord(token: SqlToken): boolean {
  return TYPE_WORDS.has(token.text.toLowerCase());
}

/** `( x )` around a single token is noise PostgreSQL adds (`(a)::text`). */
function stripRedundantParens(parts: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const prev = out[out.length - 1];
    const callable = prev !== undefined && /^[a-z_][a-z0-9_$]*$/.test(prev) && !KEYWORDS.has(prev);
    if (parts[i] === "(" && parts[i + 2] === ")" && !callable) {
      out.push(parts[i + 1]);
      i += 2;
    } else {
      out.push(parts[i]);
    }
  }
  return out;
}

const KEYWORDS = new Set(["in", "and", "or", "not", "is", "when", "then", "else", "any", "all"]);

/**
 * A reflected default as a {@link DefaultValue}: a plain string or number literal becomes the
 * value (so a rendered migration reads `default: "active"`), anything else stays SQL.
 *
 * @example
 * ```ts
 * import { reflectedDefault } from "./sql_text.ts";
 * reflectedDefault("'active'::character varying"); // "active"
 * reflectedDefault("now()"); // { raw: "now()" }
 * ```
 */
export function reflectedDefault(text: string | null | undefined): DefaultValue | undefined {
  if (text === null || text === undefined) return undefined;
  const trimmed = stripOuterParens(text);
  if (/^null$/i.test(trimmed)) return undefined;
  const tokens = tokenize(trimmed).filter(isSignificant);
  const castAt = tokens.findIndex((token, i) => token.text === ":" && tokens[i + 1]?.text === ":");
  const value = castAt >= 0 ? tokens.slice(0, castAt) : tokens;
  // Only a literal with at most a cast to a type is a value: `'INV-'::text || nextval(...)` and
  // `'2020-01-01'::date + 30` are expressions, kept whole.
  const castTo = castAt >= 0 ? tokens.slice(castAt + 2) : [];
  const onlyAType = castTo.every((token) =>
    token.kind === "word" || token.kind === "quoted" || token.kind === "number" ||
    ["(", ")", ",", "[", "]", "."].includes(token.text)
  );
  if (value.length === 1 && value[0].kind === "string" && onlyAType) {
    const literal = value[0].text.slice(1, -1).replaceAll("''", "'");
    // A cast to another type than text (e.g. '{}'::jsonb) means the same as the literal.
    return literal;
  }
  if (/^(true|false)$/i.test(trimmed)) return trimmed.toLowerCase() === "true";
  if (castAt < 0 && /^-?\d+(\.\d+)?$/.test(trimmed) && Number.isFinite(Number(trimmed))) {
    return Number(trimmed);
  }
  return { raw: trimmed };
}

/** A declared type's name (lowercase, blanks collapsed) and its numeric arguments. */
export interface TypeSpelling {
  /** The declared type, trimmed, with runs of blanks as one space (case kept). */
  readonly spelled: string;
  /** The name before any arguments, lowercase (`character varying`); absent when the type is
   * not a name with up to two numeric arguments (arrays, other arguments). */
  readonly name?: string;
  /** The first argument (length or precision), if any. */
  readonly length?: number;
  /** The second argument (scale), if any. */
  readonly scale?: number;
}

/**
 * Split a declared type such as `NUMERIC(10, 2)` or `character varying(255)` into its name and
 * arguments. Readers keep a type they do not recognise as raw SQL: `spelled`.
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { splitTypeSpelling } from "./sql_text.ts";
 * deepStrictEqual(splitTypeSpelling("NUMERIC( 10,2 )"), {
 *   spelled: "NUMERIC( 10,2 )", name: "numeric", length: 10, scale: 2,
 * });
 * ```
 */
export function splitTypeSpelling(declared: string): TypeSpelling {
  const spelled = declared.trim().replace(/\s+/g, " ");
  const match = /^([a-z0-9_ ]+?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?$/.exec(
    spelled.toLowerCase(),
  );
  if (!match) return { spelled };
  const [, name, length, scale] = match;
  return {
    spelled,
    name,
    ...(length === undefined ? {} : { length: Number(length) }),
    ...(scale === undefined ? {} : { scale: Number(scale) }),
  };
}

/** The portable numeric type for a declared `NUMERIC(precision, scale)`. */
export function numericOf(spelling: TypeSpelling): ColumnType {
  return {
    type: "numeric",
    ...(spelling.length === undefined ? {} : { precision: spelling.length }),
    ...(spelling.scale === undefined ? {} : { scale: spelling.scale }),
  };
}
