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
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(trimmed)?.[1];
  throw new UrlError(
    `Cannot use database URL ${redactUrl(url)}: ${
      scheme ? `unsupported scheme '${scheme}'` : "not a URL"
    } (use sqlite:path/to.db or postgresql://user@host/db)`,
  );
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

const PASSWORD_PARAMETER = /password=/i;

/**
 * Replace the password of every URL in a text with `***`. A password may hold `@`, `/` or
 * blanks, so it runs to the last `@` of the line before another URL starts: better a little
 * too much hidden than a password shown.
 */
export function redactUrl(text: string): string {
  let out = text;
  // Most lines (a run prints one per migration) hold no URL: the patterns need not run.
  if (out.includes("://") || PASSWORD_PARAMETER.test(out)) {
    out = out
      // scheme://user:password@host
      .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):((?:(?!:\/\/)[^\n])*)@/gi, "$1:***@")
      // ?password=... or &password=...
      .replace(/([?&]password=)[^&\s]*/gi, "$1***");
  }
  for (const secret of secrets) out = out.replaceAll(secret, "***");
  return out;
}
