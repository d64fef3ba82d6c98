/**
 * Foreign-key checks of one SQLite migration, limited to what it touched.
 *
 * The runner turns enforcement off for a run (table rebuilds need it off), so each migration's
 * changes are checked before it commits. `PRAGMA foreign_key_check` without an argument scans
 * every table, which costs seconds per migration on a database of millions of rows; instead
 * the tracker sees every statement before it runs and notes the tables it writes or alters,
 * takes a baseline of those tables' existing violations (and of the tables referencing them)
 * before they change, and afterwards checks only those tables, the tables whose definition
 * changed, and the tables that reference any of them. Only new violations are reported.
 *
 * A statement it cannot attribute to one table (a `WITH ... UPDATE`, a write to a table with
 * triggers, which may write elsewhere) switches the migration to the full check, with a full
 * baseline taken first for the tables not touched yet (those touched keep the baselines taken
 * before they changed). Each table is baselined once.
 *
 * @module
 */

import type { Connection } from "../db/connection.ts";
import { quoteIdent } from "./quote.ts";
import { referencingTables } from "./sqlite.ts";

/** What a statement writes: nothing, one table, or something the tracker cannot tell. */
export type StatementTarget =
  | { readonly kind: "none" }
  /** `creates`: a `CREATE TABLE`, so the table did not exist (or the statement does nothing). */
  | { readonly kind: "table"; readonly table: string; readonly creates?: boolean }
  | { readonly kind: "unknown" };

const IDENT = String.raw`(?:"(?:[^"]|"")+"|\`(?:[^\`]|\`\`)+\`|\[[^\]]+\]|[A-Za-z_][A-Za-z0-9_$]*)`;
const NAME = String.raw`(${IDENT}(?:\s*\.\s*${IDENT})?)`;
const NONE = { kind: "none" } as const;
const UNKNOWN = { kind: "unknown" } as const;

const CREATE_TABLE = new RegExp(
  String.raw`^CREATE\s+(?:TEMP\w*\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?${NAME}`,
  "i",
);

const PATTERNS: readonly RegExp[] = [
  new RegExp(String.raw`^INSERT\s+(?:OR\s+\w+\s+)?INTO\s+${NAME}`, "i"),
  new RegExp(String.raw`^REPLACE\s+INTO\s+${NAME}`, "i"),
  new RegExp(String.raw`^UPDATE\s+(?:OR\s+\w+\s+)?${NAME}`, "i"),
  new RegExp(String.raw`^DELETE\s+FROM\s+${NAME}`, "i"),
  CREATE_TABLE,
  new RegExp(String.raw`^ALTER\s+TABLE\s+${NAME}`, "i"),
  new RegExp(String.raw`^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?${NAME}`, "i"),
];

const CREATE_TRIGGER = new RegExp(
  String.raw`^CREATE\s+(?:TEMP\w*\s+)?TRIGGER\b[\s\S]*?\bON\s+${NAME}`,
  "i",
);

/** The table a `CREATE TRIGGER` statement attaches to, or null for other statements. */
export function triggerTable(sql: string): string | null {
  const match = CREATE_TRIGGER.exec(stripLeadingComments(sql));
  return match ? unquote(match[1]) : null;
}

const RENAME = new RegExp(String.raw`^ALTER\s+TABLE\s+${NAME}\s+RENAME\s+TO\s+${NAME}`, "i");

/** The new name of an `ALTER TABLE ... RENAME TO` statement, or null for other statements. */
export function renameTarget(sql: string): string | null {
  const match = RENAME.exec(stripLeadingComments(sql));
  return match ? unquote(match[2]) : null;
}

/** Statements that write no rows and change no table definition. */
const HARMLESS =
  /^(?:SELECT|PRAGMA|EXPLAIN|BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE|ANALYZE|REINDEX|VACUUM|CREATE\s+(?:UNIQUE\s+)?INDEX|DROP\s+INDEX|CREATE\s+(?:TEMP\w*\s+)?VIEW|DROP\s+VIEW|CREATE\s+(?:TEMP\w*\s+)?TRIGGER|DROP\s+TRIGGER)\b/i;

function unquote(name: string): string {
  const last = name.split(/\s*\.\s*(?=["`[A-Za-z_])/).at(-1)!;
  if (/^["`]/.test(last)) return last.slice(1, -1).replaceAll(last[0] + last[0], last[0]);
  if (last.startsWith("[")) return last.slice(1, -1);
  return last;
}

function stripLeadingComments(sql: string): string {
  let rest = sql.trimStart();
  for (;;) {
    if (rest.startsWith("--")) {
      const end = rest.indexOf("\n");
      rest = end < 0 ? "" : rest.slice(end + 1).trimStart();
    } else if (rest.startsWith("/*")) {
      const end = rest.indexOf("*/");
      rest = end < 0 ? "" : rest.slice(end + 2).trimStart();
    } else return rest;
  }
}

/** Which table a statement writes or alters (pure). */
export function statementTarget(sql: string): StatementTarget {
  const text = stripLeadingComments(sql);
  if (text === "" || HARMLESS.test(text)) return NONE;
  for (const pattern of PATTERNS) {
    const match = pattern.exec(text);
    if (!match) continue;
    return pattern === CREATE_TABLE
      ? { kind: "table", table: unquote(match[1]), creates: true }
      : { kind: "table", table: unquote(match[1]) };
  }
  return UNKNOWN;
}

type Violation = { table: string; rowid: number | null; parent: string; fkid: number };

function describe(v: Violation): string {
  return `${v.table} row ${
    v.rowid ?? "?"
  } references a missing row of ${v.parent} (foreign key ${v.fkid})`;
}

/**
 * Violations are compared by count per (table, parent, foreign key), not by row: a rebuild
 * copies rows under new rowids, so an orphan that predates the migration would otherwise look
 * new after it.
 */
function keyOf(v: Violation): string {
  return `${v.table.toLowerCase()}\u0000${v.parent.toLowerCase()}\u0000${v.fkid}`;
}

/** Tracks one migration's statements; see the module note. */
export class SqliteForeignKeyTracker {
  readonly #connection: Connection;
  /** Tables the migration writes, alters, creates, drops or renames to (lower case). */
  readonly #touched = new Set<string>();
  /** Tables that existed before the migration touched them, with their children then. */
  readonly #existed = new Map<string, string[]>();
  /** Tables that get a trigger from a statement noted but perhaps not run yet. */
  readonly #triggered = new Set<string>();
  /** Violations per key in the touched tables before they changed. */
  readonly #baseline = new Map<string, { count: number; rowids: Set<number | null> }>();
  /**
   * Tables created by the migration that no statement of it has written since: no rows, so no
   * violations as a child, and no child rows yet that could point at them.
   */
  readonly #empty = new Set<string>();
  /** Tables whose violations are in the baseline already. */
  readonly #baselined = new Set<string>();
  #full = false;
  #started = false;

  constructor(connection: Connection) {
    this.#connection = connection;
  }

  /** Violations that existed in the touched tables before the migration touched them. */
  get preExisting(): number {
    let total = 0;
    for (const entry of this.#baseline.values()) total += entry.count;
    return total;
  }

  /** Note statements about to run; baselines are taken before they change anything. */
  async before(statements: readonly string[]): Promise<void> {
    this.#started = true;
    if (this.#full) return;
    for (const sql of statements) {
      const withTrigger = triggerTable(sql);
      if (withTrigger) this.#triggered.add(withTrigger.toLowerCase());
      const target = statementTarget(sql);
      if (target.kind === "none") continue;
      const key = target.kind === "table" ? target.table.toLowerCase() : "";
      // A table being created has no rows, children or triggers yet: nothing to ask or baseline,
      // and nothing to check unless a later statement writes to it.
      if (target.kind === "table" && target.creates) {
        this.#touched.add(key);
        this.#empty.add(key);
        continue;
      }
      this.#empty.delete(key);
      if (
        target.kind === "unknown" || this.#triggered.has(key) ||
        (!this.#touched.has(key) && (await this.#describe(key)).triggers)
      ) {
        this.#full = true;
        // Tables touched or baselined so far keep the baselines taken before they changed
        // (earlier statements of the migration may have run already: their violations are
        // new, not old); every other table is as it was before the migration.
        for (const v of await this.#check(null)) {
          const table = v.table.toLowerCase();
          if (!this.#baselined.has(table) && !this.#touched.has(table)) this.#count([v]);
        }
        return;
      }
      await this.#touch(key);
      const renamed = renameTarget(sql);
      if (renamed) await this.#touch(renamed.toLowerCase());
    }
  }

  /** The violations the migration added. */
  async added(): Promise<string[]> {
    if (!this.#started) return [];
    const found = this.#full ? await this.#check(null) : await this.#checkTouched();
    const after = new Map<string, Violation[]>();
    for (const v of found) {
      const list = after.get(keyOf(v));
      if (list) list.push(v);
      else after.set(keyOf(v), [v]);
    }
    const added: string[] = [];
    for (const [key, list] of after) {
      const before = this.#baseline.get(key);
      if (list.length <= (before?.count ?? 0)) continue;
      // The rows that were not there before; when rowids changed (a rebuild) and that does not
      // account for the increase, every row under the key.
      const fresh = list.filter((v) => !before?.rowids.has(v.rowid));
      const shown = fresh.length >= list.length - (before?.count ?? 0) ? fresh : list;
      added.push(...shown.map(describe));
    }
    return added;
  }

  #count(violations: readonly Violation[]): void {
    for (const v of violations) {
      const entry = this.#baseline.get(keyOf(v));
      if (entry) {
        entry.count++;
        entry.rowids.add(v.rowid);
      } else this.#baseline.set(keyOf(v), { count: 1, rowids: new Set([v.rowid]) });
    }
  }

  /** First sight of a table: if it exists, baseline it and the tables referencing it. */
  async #touch(table: string): Promise<void> {
    if (this.#touched.has(table)) return;
    this.#touched.add(table);
    // A table the migration creates has no rows yet, and nothing references it yet.
    if (!(await this.#describe(table)).exists) return;
    const children = await this.#referencing(table);
    this.#existed.set(table, children);
    for (const name of [table, ...children]) {
      // Once per table: a child baselined with its parent and then touched itself must not
      // count its old violations twice (which would hide as many new ones).
      if (this.#baselined.has(name)) continue;
      if (name === table || await this.#exists(name)) {
        this.#baselined.add(name);
        this.#count(await this.#check(name));
      }
    }
  }

  async #checkTouched(): Promise<Violation[]> {
    const tables = new Set<string>();
    for (const name of this.#touched) {
      if (this.#empty.has(name)) continue;
      const before = this.#existed.get(name);
      if (await this.#exists(name)) {
        tables.add(name);
        // Children as they are now (a rebuild or a rename may have changed them). A table new
        // in this migration can only be referenced by tables it touched, checked anyway.
        if (before) { for (const child of await this.#referencing(name)) tables.add(child); }
      }
      for (const child of before ?? []) tables.add(child);
    }
    const found: Violation[] = [];
    for (const name of tables) {
      if (await this.#exists(name)) found.push(...await this.#check(name));
    }
    return found;
  }

  async #referencing(table: string): Promise<string[]> {
    return (await referencingTables(this.#connection, table)).map((t) => t.toLowerCase());
  }

  async #exists(table: string): Promise<boolean> {
    const rows = await this.#connection.query(
      "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = $1 COLLATE NOCASE",
      [table],
    );
    return rows.length > 0;
  }

  /** Whether a table exists and has triggers, in one read of the catalog. */
  async #describe(table: string): Promise<{ exists: boolean; triggers: boolean }> {
    const rows = await this.#connection.query<{ type: string }>(
      "SELECT DISTINCT type FROM sqlite_master WHERE (type = 'table' AND name = $1 COLLATE NOCASE) " +
        "OR (type = 'trigger' AND tbl_name = $1 COLLATE NOCASE)",
      [table],
    );
    return {
      exists: rows.some((r) => r.type === "table"),
      triggers: rows.some((r) => r.type === "trigger"),
    };
  }

  /** One table's violations (as a child), or every table's with `null`. */
  async #check(table: string | null): Promise<Violation[]> {
    return await this.#connection.query<Violation>(
      table === null
        ? "PRAGMA foreign_key_check"
        : `PRAGMA foreign_key_check(${quoteIdent(table)})`,
    );
  }
}
