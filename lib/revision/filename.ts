/**
 * Migration filenames: `YYYY_MM_DD_HHMMSS_REV_SLUG.ext`.
 *
 * The name is a convenience for humans (sorting in a file browser, finding a revision by
 * grep); the revision declared inside the file is authoritative and apply order comes from the
 * graph. Real chains carry irregular names (no REV, a REV copied from another file), so parsing
 * separates "not a migration at all" (`null`) from "looks like a migration but is malformed"
 * (a `SyntaxError` naming the file), and leaves REV/declared-revision mismatches to the loader,
 * which reports them as warnings.
 *
 * @module
 */

/** The parts of a migration filename. */
export interface ParsedFilename {
  /** The base name as given, e.g. `2026_11_21_143005_5952a5498b51_add_labels.sql`. */
  readonly filename: string;
  /** `YYYY_MM_DD_HHMMSS`. */
  readonly timestamp: string;
  /** The timestamp as a UTC date. */
  readonly date: Date;
  /** The revision ID in the name, or null when the name has none. */
  readonly revision: string | null;
  /** The rest of the name after the timestamp and REV (may be empty). */
  readonly slug: string;
  readonly ext: "ts" | "sql";
}

/** Longest slug `slugify` produces (Alembic's default `truncate_slug_length`). */
export const MAX_SLUG_LENGTH = 40;

const EXTENSION = /\.(ts|sql)$/;
// A name that starts like a timestamp is meant to be a migration; if the rest does not parse,
// silently ignoring it would drop a migration from the chain, so it is an error instead.
const TIMESTAMP_LIKE = /^\d{4}[_-]?\d{2}[_-]?\d{2}/;
const FULL = /^(\d{4})_(\d{2})_(\d{2})_(\d{2})(\d{2})(\d{2})(?:_([A-Za-z0-9_-]*))?\.(ts|sql)$/;
// Generated IDs are 12 lowercase hex characters; hand-written ones vary in length. Requiring a
// digit keeps ordinary words made of the letters a-f ("facade") in the slug.
const REV_SEGMENT = /^[0-9a-f]{8,32}$/;

/**
 * Parse a migration filename (a base name, not a path).
 *
 * Returns null for files that are not migrations (other extensions, names that do not start
 * with a timestamp, `.d.ts`). Throws a `SyntaxError` naming the file when a `.ts`/`.sql` name
 * starts with a timestamp-like prefix but does not parse.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { parseFilename } from "./filename.ts";
 * const parsed = parseFilename("2026_11_21_143005_5952a5498b51_add_labels.sql");
 * ok(parsed?.revision === "5952a5498b51" && parsed.slug === "add_labels");
 * ```
 */
export function parseFilename(name: string): ParsedFilename | null {
  if (!EXTENSION.test(name) || name.endsWith(".d.ts")) return null;
  if (!TIMESTAMP_LIKE.test(name)) return null;
  const match = FULL.exec(name);
  if (!match) {
    throw new SyntaxError(
      `Cannot parse migration filename '${name}': expected YYYY_MM_DD_HHMMSS_REV_SLUG.ts or .sql`,
    );
  }
  const [, y, mo, d, h, mi, s, rest = "", ext] = match;
  const date = new Date(Date.UTC(+y, +mo - 1, +d, +h, +mi, +s));
  // Date.UTC rolls over (month 13, day 32, hour 24): a valid stamp is one that round-trips.
  if (
    +mo < 1 || +mo > 12 || +h > 23 || +mi > 59 || +s > 59 || date.getUTCDate() !== +d
  ) {
    throw new SyntaxError(
      `Cannot parse migration filename '${name}': ${y}_${mo}_${d}_${h}${mi}${s} is not a valid date and time`,
    );
  }
  const underscore = rest.indexOf("_");
  const first = underscore < 0 ? rest : rest.slice(0, underscore);
  const hasRev = REV_SEGMENT.test(first) && /\d/.test(first);
  return {
    filename: name,
    timestamp: `${y}_${mo}_${d}_${h}${mi}${s}`,
    date,
    revision: hasRev ? first : null,
    slug: hasRev ? (underscore < 0 ? "" : rest.slice(underscore + 1)) : rest,
    ext: ext as "ts" | "sql",
  };
}

/**
 * Format a date as the filename timestamp `YYYY_MM_DD_HHMMSS` (UTC).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { formatTimestamp } from "./filename.ts";
 * ok(formatTimestamp(new Date(Date.UTC(2026, 10, 21, 14, 30, 5))) === "2026_11_21_143005");
 * ```
 */
export function formatTimestamp(date: Date): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${pad(date.getUTCFullYear(), 4)}_${pad(date.getUTCMonth() + 1)}_${
    pad(date.getUTCDate())
  }_${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`;
}

/**
 * Turn a message into a filename slug: lower snake case, ASCII letters and digits only, at most
 * 40 characters, cut at a word boundary when possible.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { slugify } from "./filename.ts";
 * ok(slugify("Add `labels` column to Flow!") === "add_labels_column_to_flow");
 * ```
 */
export function slugify(message: string): string {
  const slug = message.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
  if (slug.length <= MAX_SLUG_LENGTH) return slug;
  const cut = slug.slice(0, MAX_SLUG_LENGTH);
  // Cutting inside a word leaves a fragment; prefer the last whole word when there is one.
  const wordEnd = slug[MAX_SLUG_LENGTH] === "_" ? MAX_SLUG_LENGTH : cut.lastIndexOf("_");
  return (wordEnd > 0 ? cut.slice(0, wordEnd) : cut).replace(/_+$/, "");
}

/** What `formatFilename` needs. */
export interface FilenameParts {
  readonly date: Date;
  readonly revision: string;
  readonly message: string;
  readonly ext: "ts" | "sql";
}

/**
 * Build a migration filename from its parts.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { formatFilename } from "./filename.ts";
 * const name = formatFilename({
 *   date: new Date(Date.UTC(2026, 10, 21, 14, 30, 5)),
 *   revision: "5952a5498b51",
 *   message: "Add labels",
 *   ext: "sql",
 * });
 * ok(name === "2026_11_21_143005_5952a5498b51_add_labels.sql");
 * ```
 */
export function formatFilename(parts: FilenameParts): string {
  const slug = slugify(parts.message);
  const stem = `${formatTimestamp(parts.date)}_${parts.revision}`;
  return `${stem}${slug ? `_${slug}` : ""}.${parts.ext}`;
}

/**
 * Generate a new revision ID: 12 lowercase hex characters (like Alembic's), never one already
 * in `existing`. `random` (values in [0, 1)) exists for deterministic tests; the default uses
 * `crypto.getRandomValues`.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { newRevisionId } from "./filename.ts";
 * const id = newRevisionId(new Set(["5952a5498b51"]));
 * ok(/^[0-9a-f]{12}$/.test(id));
 * ```
 */
export function newRevisionId(existing: ReadonlySet<string>, random?: () => number): string {
  const nextNibble = random ? () => Math.floor(random() * 16) & 15 : (() => {
    const bytes = new Uint8Array(12);
    let i = 12;
    return () => {
      if (i === 12) {
        crypto.getRandomValues(bytes);
        i = 0;
      }
      return bytes[i++] & 15;
    };
  })();
  for (let attempt = 0; attempt < 1000; attempt++) {
    let id = "";
    for (let i = 0; i < 12; i++) id += nextNibble().toString(16);
    if (!existing.has(id)) return id;
  }
  throw new Error(
    "Cannot generate a revision ID: 1000 candidates collided with existing revisions (is the random source constant?)",
  );
}
