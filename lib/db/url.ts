/**
 * Database URLs: which dialect a URL names, where a SQLite file is, and how to print a URL
 * without its password. Pure.
 *
 * Accepted: `sqlite:path/to.db`, `sqlite:///abs/path.db`, `sqlite::memory:`, a plain
 * `*.db`/`*.sqlite`/`*.sqlite3` path, `postgres://...` and `postgresql://...`.
 *
 * @module
 */

import type { DialectName } from "../revision/revision.ts";

/** A parsed database URL. */
export type DatabaseTarget =
  | { readonly dialect: "sqlite"; readonly path: string; readonly memory: boolean }
  | { readonly dialect: "postgresql"; readonly url: string };

/** The URL used when neither `--url` nor `DATABASE_URL` is given. */
export const DEFAULT_URL = "sqlite:./strata.db";

/** A URL strata cannot use. */
export class UrlError extends Error {
  /**
   * Reports an unusable database URL.
   *
   * @param message The whole message, `Cannot <action>: <what is wrong with the URL>`.
   */
  constructor(message: string) {
    super(message);
    this.name = "UrlError";
  }
}

/** Parse a database URL. Throws {@link UrlError} for an unsupported scheme. */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  const trimmed = url.trim();
  if (/^postgres(ql)?:\/\//i.test(trimmed)) {
    rememberSecret(trimmed);
    if (!parsesAsPostgresUrl(trimmed)) {
      // The driver would fail on the first statement with a bare "Invalid URL".
      throw new UrlError(
        `Cannot use database URL ${redactUrl(trimmed)}: it does not parse as a URL (check ` +
          "the host and port, and percent-encode characters such as # ? / : in the user " +
          "name and password, e.g. %23 for #)",
      );
    }
    return { dialect: "postgresql", url: trimmed };
  }
  if (/^sqlite:/i.test(trimmed)) {
    let rest = trimmed.slice("sqlite:".length);
    if (rest === ":memory:" || rest === "//:memory:") {
      return { dialect: "sqlite", path: ":memory:", memory: true };
    }
    // sqlite:///abs/path (SQLAlchemy style) and sqlite://relative
    if (rest.startsWith("///")) rest = rest.slice(2);
    else if (rest.startsWith("//")) rest = rest.slice(2);
    if (rest === "") throw new UrlError(`Cannot use database URL ${redactUrl(url)}: no file path`);
    if (/^file:/i.test(rest)) {
      // SQLite would open the file the URI names, but the lockfile would go beside a file
      // literally named `file:...`: two spellings of one database must share one lock.
      throw new UrlError(
        `Cannot use database URL ${redactUrl(url)}: SQLite URI filenames (file:...) are not ` +
          "supported; use sqlite:path/to.db",
      );
    }
    return { dialect: "sqlite", path: rest, memory: false };
  }
  if (/\.(db|sqlite|sqlite3)$/i.test(trimmed) && !/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    return { dialect: "sqlite", path: trimmed, memory: false };
  }
  const use = "(use sqlite:path/to.db or postgresql://user@host/db)";
  if (trimmed.includes("=") && !trimmed.includes("://")) {
    // A libpq keyword/value (`host=db password=x`) or ADO (`Server=x;Password=y;`) string:
    // its values are never printed, only the first key.
    const key = /^[a-z_][a-z0-9_]{0,30}(?=\s*=)/i.exec(trimmed)?.[0];
    throw new UrlError(
      `Cannot use database URL: not a URL but a key=value connection string${
        key ? ` (starting '${key}=...')` : ""
      }; strata takes URLs only ${use}`,
    );
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(trimmed)?.[1];
  throw new UrlError(
    `Cannot use database URL ${redactUrl(url)}: ${
      scheme ? `unsupported scheme '${scheme}'` : "not a URL"
    } ${use}`,
  );
}

/**
 * True when the PostgreSQL driver can parse a URL. It reads the host list itself (several
 * hosts, `h1:5432,h2:5433`, are allowed) and hands the rest to `new URL`.
 */
function parsesAsPostgresUrl(url: string): boolean {
  try {
    let hosts = url.slice(url.indexOf("://") + 3).split(/[?/]/)[0];
    hosts = decodeURIComponent(hosts.slice(hosts.indexOf("@") + 1));
    new URL(url.replace(hosts, hosts.split(",")[0]));
    return true;
  } catch {
    return false;
  }
}

/** The dialect a URL names. */
export function dialectOfUrl(url: string): DialectName {
  return parseDatabaseUrl(url).dialect;
}

/** Passwords seen in the URLs this process was given, masked wherever they appear. */
const secrets = new Set<string>();

/**
 * Remember the password of a URL, so that {@link redactUrl} masks it even where it appears
 * outside a URL (a driver's error message echoing part of one).
 */
export function rememberSecret(url: string): void {
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:(.*)@/i.exec(url.trim());
  const password = match?.[1];
  if (password && password.length >= 3) {
    secrets.add(password);
    try {
      secrets.add(decodeURIComponent(password));
    } catch {
      // Not percent-encoded.
    }
  }
}

const PASSWORD_PARAMETER = /(?:password|\bpwd)\s*=/i;

/**
 * `password=...` anywhere (a URL's query, a libpq keyword/value string, an ADO string's
 * `Password=...;` or `Pwd=...`, `sslpassword=`), case-insensitive, its value quoted or not.
 * A `***` already masked and followed by `: ` (`Cannot connect to <url>: ...`) keeps its colon.
 */
const PASSWORD_VALUE =
  /((?:password|\bpwd)\s*=\s*)(?:\*\*\*(?=:(?:\s|$))|'(?:[^'\\]|\\.)*'?|"(?:[^"]|"")*"?|[^\s;&]*)/gi;

/** Only a URL's `?password=...` or `&password=...`. */
const QUERY_PASSWORD_VALUE = /([?&]password=)(?:\*\*\*(?=:(?:\s|$))|[^&\s]*)/gi;

/**
 * Replace the password of every URL in a text with `***`. A password may hold `@`, `/` or
 * blanks, so it runs to the last `@` of the line before another URL starts: better a little
 * too much hidden than a password shown. `password=` values are masked wherever they appear
 * (libpq and ADO connection strings), unless `options.keywords` is false: SQL text, where
 * `SET password = NULL` is a statement to print as written, masks only a URL's query.
 */
export function redactUrl(text: string, options: { readonly keywords?: boolean } = {}): string {
  let out = text;
  // Most lines (a run prints one per migration) hold no URL: the patterns need not run.
  if (out.includes("://")) {
    // scheme://user:password@host
    out = out.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):((?:(?!:\/\/)[^\n])*)@/gi, "$1:***@");
  }
  if (out.includes("@")) {
    // user:password@host without a full `scheme://` (`u:pw@h/db`, `postgresql:/u:pw@h`): a
    // malformed URL echoed in an error must not show its password either.
    out = out.replace(/([^\s:@/'"]+):([^\s@/'"]+)@/g, "$1:***@");
  }
  if (PASSWORD_PARAMETER.test(out)) {
    out = out.replace(options.keywords === false ? QUERY_PASSWORD_VALUE : PASSWORD_VALUE, "$1***");
  }
  // Where it stands as a word of its own: a password `postgres` must not turn `postgresql`
  // (a dialect in a JSON document) into `***ql`.
  for (const secret of secrets) {
    if (!out.includes(secret)) continue;
    const escaped = secret.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    out = out.replace(new RegExp(`(?<![\\p{L}\\p{N}_])${escaped}(?![\\p{L}\\p{N}_])`, "gu"), "***");
  }
  return out;
}
