/**
 * Foreign-key checks of one SQLite migration, limited to what it touched.
 *
 * The runner turns enforcement off for a run (table rebuilds need it off), so each migration's
 * changes are checked before it commits. `PRAGMA foreign_key_check` without an argument scans
 * every table, which costs seconds per migration on a database of millions of rows; instead
 * the tracker sees every statement before it runs and notes the tables it writes, alters,
 * creates, drops or renames; takes a baseline of those tables' existing violations (and of the
 * tables referencing them) before they change; and afterwards checks only those tables and the
 * tables that reference them. Only new violations are reported.
 *
 * A violation is identified by its child table, its parent table and the values of its
 * foreign-key columns (read by rowid), compared as multisets: an old orphan removed and a new
 * one added is still a new one; foreign keys renumbered by an added key, rows copied by a
 * rebuild and tables renamed (names are translated through the migration's renames) do not
 * make old orphans look new. The one case it cannot tell apart: an old orphan deleted and a
 * new row added with exactly the same missing key.
 *
 * The tracker is conservative: a statement it cannot attribute to one table (a `WITH ...`
 * statement, a write to a table with triggers, which may write elsewhere, a trigger it cannot
 * read) switches the migration to the full check, with a baseline of the tables not touched
 * yet (those touched keep the baselines taken before they changed). Each table is baselined
 * once. A table whose foreign keys SQLite cannot check (a key naming a column without a unique
 * index: "foreign key mismatch") is skipped with a warning when it was so before the
 * migration, and fails the migration when the migration made it so.
 *
 * @module
 */

import type { Connection } from "../db/connection.ts";
import { splitSqlStatements } from "../revision/script.ts";
import { quoteIdent } from "./quote.ts";
import { foldIdentifier } from "../sql/lexer.ts";
import { referencingTables } from "./sqlite.ts";

/** What a statement writes: nothing, one table, an index's table, or something unknown. */
export type StatementTarget =
  | { readonly kind: "none" }
  /** `creates`: a plain `CREATE TABLE` (not `IF NOT EXISTS`), so the table is new. */
  | { readonly kind: "table"; readonly table: string; readonly creates?: boolean }
  /** `DROP INDEX`: may break the foreign keys of the index's table's children. */
  | { readonly kind: "index"; readonly index: string }
  | { readonly kind: "unknown" };

const NONE = { kind: "none" } as const;
const UNKNOWN = { kind: "unknown" } as const;

// ---- reading names ------------------------------------------------------------------------

/** An unquoted SQLite identifier (SQLite accepts any non-ASCII character), read at `lastIndex`. */
const BARE_IDENTIFIER = /[A-Za-z0-9_$\u0080-\uFFFF]+/y;
const SPACES = /\s*/y;

interface Name {
  readonly schema: string | null;
  readonly name: string;
  /** Offset just past the name. */
  readonly end: number;
}

function skipSpace(text: string, at: number): number {
  SPACES.lastIndex = at;
  SPACES.exec(text);
  return Math.max(at, SPACES.lastIndex);
}

/** One identifier at `at` (quoted with "", ``, [] or bare), or null. */
function readIdentifier(text: string, at: number): { value: string; end: number } | null {
  const open = text[at];
  if (open === '"' || open === "`") {
    let value = "";
    let i = at + 1;
    while (i < text.length) {
      if (text[i] === open) {
        if (text[i + 1] === open) {
          value += open;
          i += 2;
          continue;
        }
        return { value, end: i + 1 };
      }
      value += text[i++];
    }
    return null;
  }
  if (open === "[") {
    const close = text.indexOf("]", at);
    return close < 0 ? null : { value: text.slice(at + 1, close), end: close + 1 };
  }
  BARE_IDENTIFIER.lastIndex = at;
  const bare = BARE_IDENTIFIER.exec(text);
  return bare ? { value: bare[0], end: at + bare[0].length } : null;
}

/** A possibly schema-qualified name at `at`: `t`, `main.t`, `"a.b"`, `[x].[y]`. */
function readName(text: string, at: number): Name | null {
  const first = readIdentifier(text, skipSpace(text, at));
  if (!first) return null;
  const dot = skipSpace(text, first.end);
  if (text[dot] === ".") {
    const second = readIdentifier(text, skipSpace(text, dot + 1));
    if (!second) return null;
    return { schema: foldIdentifier(first.value), name: second.value, end: second.end };
  }
  return { schema: null, name: first.value, end: first.end };
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

// ---- classifying statements ---------------------------------------------------------------

/** Statements that write no rows and change no table definition (`DROP INDEX` is not one). */
const HARMLESS =
  /^(?:SELECT|PRAGMA|EXPLAIN|BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE|ANALYZE|REINDEX|VACUUM|CREATE\s+(?:UNIQUE\s+)?INDEX|CREATE\s+(?:TEMP\w*\s+)?VIEW|DROP\s+VIEW|CREATE\s+(?:TEMP\w*\s+)?TRIGGER|DROP\s+TRIGGER)\b/i;

type Effect = "write" | "create" | "index";

/** Statement prefixes followed by the name they act on. */
const PREFIXES: readonly [RegExp, Effect][] = [
  [/^INSERT\s+(?:OR\s+\w+\s+)?INTO\s/i, "write"],
  [/^REPLACE\s+INTO\s/i, "write"],
  [/^UPDATE\s+(?:OR\s+\w+\s+)?/i, "write"],
  [/^DELETE\s+FROM\s/i, "write"],
  // IF NOT EXISTS may meet an existing table with rows: treated as a write, never as new.
  [/^CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s/i, "write"],
  [/^CREATE\s+TABLE\s/i, "create"],
  [/^ALTER\s+TABLE\s/i, "write"],
  [/^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?/i, "write"],
  [/^DROP\s+INDEX\s+(?:IF\s+EXISTS\s+)?/i, "index"],
];

/** Temp tables, created or written, cannot hold or break a foreign key of the main schema. */
const CREATE_TEMP_TABLE = /^CREATE\s+TEMP(?:ORARY)?\s+TABLE\s/i;

/** Which table a statement writes or alters (pure; one statement). */
export function statementTarget(sql: string): StatementTarget {
  const text = stripLeadingComments(sql);
  if (text === "" || HARMLESS.test(text) || CREATE_TEMP_TABLE.test(text)) return NONE;
  for (const [prefix, effect] of PREFIXES) {
    const match = prefix.exec(text);
    if (!match) continue;
    const name = readName(text, match[0].length);
    if (!name) return UNKNOWN;
    if (name.schema === "temp") return NONE;
    if (name.schema !== null && name.schema !== "main") return UNKNOWN;
    if (effect === "index") return { kind: "index", index: name.name };
    return effect === "create"
      ? { kind: "table", table: name.name, creates: true }
      : { kind: "table", table: name.name };
  }
  return UNKNOWN;
}

const CREATE_TRIGGER = /^CREATE\s+(?:TEMP(?:ORARY)?\s+)?TRIGGER\s+(?:IF\s+NOT\s+EXISTS\s+)?/i;

/**
 * The table a `CREATE TRIGGER` statement attaches to; null for other statements; `undefined`
 * when it is a trigger whose table cannot be read (the caller then checks everything).
 */
export function triggerTable(sql: string): string | null | undefined {
  const text = stripLeadingComments(sql);
  const match = CREATE_TRIGGER.exec(text);
  if (!match) return null;
  const name = readName(text, match[0].length);
  if (!name) return undefined;
  // Words up to the first bare ON: timing, event, `UPDATE OF` columns (quoted names are read
  // whole, so an ON inside one does not count).
  let at = name.end;
  for (;;) {
    at = skipSpace(text, at);
    if (at >= text.length) return undefined;
    if (text[at] === ",") {
      at++;
      continue;
    }
    const word = readIdentifier(text, at);
    if (!word) return undefined;
    const bare = !/["`[]/.test(text[at]);
    if (bare && word.value.toUpperCase() === "ON") {
      const table = readName(text, word.end);
      return table ? table.name : undefined;
    }
    at = word.end;
  }
}

const RENAME_TO = /^\s+RENAME\s+TO\s/i;

/** The new name of an `ALTER TABLE ... RENAME TO` statement, or null for other statements. */
export function renameTarget(sql: string): string | null {
  const text = stripLeadingComments(sql);
  const match = /^ALTER\s+TABLE\s/i.exec(text);
  if (!match) return null;
  const table = readName(text, match[0].length);
  if (!table) return null;
  const rename = RENAME_TO.exec(text.slice(table.end));
  if (!rename) return null;
  return readName(text, table.end + rename[0].length)?.name ?? null;
}

// ---- violations -----------------------------------------------------------------------------

type Violation = {
  readonly table: string;
  readonly rowid: number | null;
  readonly parent: string;
  readonly fkid: number;
};

function describe(v: Violation): string {
  return `${v.table} row ${
    v.rowid ?? "?"
  } references a missing row of ${v.parent} (foreign key ${v.fkid})`;
}

/** A row's foreign-key values (`c0`, `c1`, ...) as one comparable string. */
function keyValues(row: Record<string, unknown> | undefined, count: number): string {
  return JSON.stringify(
    Array.from({ length: count }, (_, i) => row?.[`c${i}`] ?? null),
    (_, value) => typeof value === "bigint" ? `${value}n` : value,
  );
}

/** Rows whose foreign-key values one query reads (see `#identify`). */
const IDENTIFY_CHUNK = 500;

/** A table SQLite cannot check ("foreign key mismatch" and the like). */
class UncheckableTable extends Error {}

/** Tracks one migration's statements; see the module note. */
export class SqliteForeignKeyTracker {
  readonly #connection: Connection;
  /** Tables the migration writes, alters, creates, drops or renames to (lower case). */
  readonly #touched = new Set<string>();
  /** Tables that existed before the migration touched them, with their children then. */
  readonly #existed = new Map<string, string[]>();
  /** Tables that get a trigger from a statement noted but perhaps not run yet. */
  readonly #triggered = new Set<string>();
  /** Tables created by the migration and not written since: no rows, nothing to check. */
  readonly #created = new Set<string>();
  /** Tables whose old violations are in the baseline (or that had none: new tables). */
  readonly #baselined = new Set<string>();
  /** Old violations: identity (names as they were then) -> how many. */
  readonly #baseline = new Map<string, number>();
  /** Tables SQLite could not check before the migration: skipped, with a warning. */
  readonly #uncheckable = new Set<string>();
  /** Table renames in order, lower case: identities are translated through them. */
  readonly #renames: [string, string][] = [];
  readonly #warnings: string[] = [];
  #full = false;
  #started = false;

  constructor(connection: Connection) {
    this.#connection = connection;
  }

  /** Violations that existed in the touched tables before the migration touched them. */
  get preExisting(): number {
    let total = 0;
    for (const count of this.#baseline.values()) total += count;
    return total;
  }

  /** Things the tracker could not check, for the run's output. */
  get warnings(): readonly string[] {
    return this.#warnings;
  }

  /** Note statements about to run; baselines are taken before they change anything. */
  async before(statements: readonly string[]): Promise<void> {
    this.#started = true;
    for (const text of statements) {
      // One text may hold several statements (`op.execute("A; B")` runs them all).
      const parts = text.includes(";") ? splitSqlStatements(text).map((s) => s.sql) : [text];
      for (const sql of parts) {
        if (this.#full) return;
        // Most statements (a new table, an index) are noted without asking the database.
        const lookup = this.#note(sql);
        if (lookup) await lookup;
      }
    }
  }

  noteUnchecked(statements: readonly string[]): boolean {
    // Something noted before may need a check already.
    if (this.#full || !this.#onlyNewTables()) return false;
    const created: string[] = [];
    for (const text of statements) {
      const parts = text.includes(";") ? splitSqlStatements(text).map((s) => s.sql) : [text];
      for (const sql of parts) {
        if (triggerTable(sql) !== null) return false;
        const target = statementTarget(sql);
        if (target.kind === "none") continue;
        if (target.kind !== "table" || !target.creates) return false;
        created.push(foldIdentifier(target.table));
      }
    }
    // As `#note` records a new table; every table touched so far is new too, so none can hold
    // a violation.
    for (const key of created) {
      if (this.#touched.has(key)) continue;
      this.#touched.add(key);
      this.#created.add(key);
      this.#baselined.add(key);
    }
    if (statements.length > 0) this.#started = true;
    return true;
  }

  /** Note one statement; a Promise when that needs the database. */
  #note(sql: string): Promise<void> | undefined {
    const withTrigger = triggerTable(sql);
    if (withTrigger === undefined) return this.#goFull();
    if (withTrigger) this.#triggered.add(foldIdentifier(withTrigger));
    const target = statementTarget(sql);
    if (target.kind === "none") return;
    if (target.kind === "unknown") return this.#goFull();
    if (target.kind === "index") return this.#noteIndex(target.index);
    const key = foldIdentifier(target.table);
    if (target.creates) {
      // A name touched before (dropped or renamed away) is created again: its old children
      // are still checked; a name never seen is a new, empty table.
      if (!this.#touched.has(key)) {
        this.#touched.add(key);
        this.#created.add(key);
        this.#baselined.add(key);
      }
      return;
    }
    return this.#noteWrite(key, sql);
  }

  /**
   * `DROP INDEX`: dropping a unique index can leave the children of its table with a key
   * SQLite can no longer check: check them after.
   */
  async #noteIndex(index: string): Promise<void> {
    const [row] = await this.#connection.query<{ tbl_name: string }>(
      "SELECT tbl_name FROM sqlite_master WHERE type = 'index' AND name = $1 COLLATE NOCASE",
      [index],
    );
    if (row) await this.#touch(foldIdentifier(row.tbl_name));
  }

  /** A statement that writes, alters, drops or renames `key`. */
  async #noteWrite(key: string, sql: string): Promise<void> {
    this.#created.delete(key);
    if (
      this.#triggered.has(key) ||
      (!this.#touched.has(key) && (await this.#describe(key)).triggers)
    ) {
      return await this.#goFull();
    }
    await this.#touch(key);
    const renamed = renameTarget(sql);
    if (renamed) {
      const to = foldIdentifier(renamed);
      this.#renames.push([key, to]);
      // Its rows are the old table's, baselined under the old name.
      this.#touched.add(to);
      this.#baselined.add(to);
    }
  }

  /** Switch to checking every table; baseline the tables not touched yet. */
  async #goFull(): Promise<void> {
    this.#full = true;
    const untouched = (table: string) => !this.#baselined.has(table) && !this.#touched.has(table);
    for (const table of await this.#allTables()) {
      if (!untouched(table)) continue;
      this.#baselined.add(table);
      await this.#baselineTable(table);
    }
  }

  /** The violations the migration added. */
  async added(): Promise<string[]> {
    if (!this.#started || (!this.#full && this.#onlyNewTables())) return [];
    const tables = this.#full ? await this.#allTables() : await this.#tablesToCheck();
    const found: Violation[] = [];
    for (const table of tables) {
      try {
        // One by one: spread as arguments, a hundred thousand rows overflow the stack.
        for (const violation of await this.#check(table)) found.push(violation);
      } catch (error) {
        if (!(error instanceof UncheckableTable)) throw error;
        if (this.#uncheckable.has(table)) continue;
        throw new Error(
          `the foreign keys of ${table} cannot be checked after this migration ` +
            `(${error.message}); a foreign key needs a primary key or unique index on the ` +
            "columns it references",
        );
      }
    }
    if (found.length === 0) return [];
    const baseline = new Map<string, number>();
    /** (child, parent) pairs that had old violations: only theirs need telling apart. */
    const pairs = new Set<string>();
    for (const [identity, count] of this.#baseline) {
      const renamed = this.#translate(identity);
      baseline.set(renamed, (baseline.get(renamed) ?? 0) + count);
      pairs.add(renamed.slice(0, renamed.lastIndexOf("\u0000")));
    }
    const pair = (v: Violation) => `${foldIdentifier(v.table)}\u0000${foldIdentifier(v.parent)}`;
    const added = found.filter((v) => !pairs.has(pair(v))).map(describe);
    const groups = await this.#identify(found.filter((v) => pairs.has(pair(v))));
    // A pair some of whose violations have no values, then or now (a WITHOUT ROWID child the
    // anti-join could not read as SQLite's check does), is compared by count alone: values
    // read one time and not the other would make old orphans look new.
    const pairOf = (identity: string) => identity.slice(0, identity.lastIndexOf("\u0000"));
    const unknown = new Set<string>();
    for (const identity of [...baseline.keys(), ...groups.keys()]) {
      if (identity.endsWith("\u0000?")) unknown.add(pairOf(identity));
    }
    const byCount = new Map<string, Violation[]>();
    for (const [identity, list] of groups) {
      const key = pairOf(identity);
      if (unknown.has(key)) {
        byCount.set(key, [...(byCount.get(key) ?? []), ...list]);
        continue;
      }
      const before = baseline.get(identity) ?? 0;
      for (const v of list.slice(before)) added.push(describe(v));
    }
    for (const [key, list] of byCount) {
      let before = 0;
      for (const [identity, count] of baseline) if (pairOf(identity) === key) before += count;
      for (const v of list.slice(before)) added.push(describe(v));
    }
    return added;
  }

  /** First sight of a table: if it exists, baseline it and the tables referencing it. */
  async #touch(table: string): Promise<void> {
    if (this.#touched.has(table)) return;
    this.#touched.add(table);
    if (!(await this.#describe(table)).exists) {
      // Created later in the migration: whatever it holds at the end is new.
      this.#baselined.add(table);
      return;
    }
    const children = await this.#referencing(table);
    this.#existed.set(table, children);
    for (const name of [table, ...children]) {
      // Once per table: a child baselined with its parent and then touched itself must not
      // count its old violations twice (which would hide as many new ones).
      if (this.#baselined.has(name)) continue;
      this.#baselined.add(name);
      if (name === table || await this.#exists(name)) await this.#baselineTable(name);
    }
  }

  async #baselineTable(table: string): Promise<void> {
    let violations: Violation[];
    try {
      violations = await this.#check(table);
    } catch (error) {
      if (!(error instanceof UncheckableTable)) throw error;
      this.#uncheckable.add(table);
      this.#warnings.push(
        `the foreign keys of ${table} cannot be checked (${error.message}); ` +
          "its rows are not checked",
      );
      return;
    }
    for (const [identity, list] of await this.#identify(violations)) {
      this.#baseline.set(identity, (this.#baseline.get(identity) ?? 0) + list.length);
    }
  }

  /**
   * Every table touched was created by the migration and never written (nor existed before
   * under its name): they have no rows, so nothing can violate a key.
   */
  #onlyNewTables(): boolean {
    for (const name of this.#touched) {
      if (!this.#created.has(name) || this.#existed.has(name)) return false;
    }
    return true;
  }

  /** The touched tables that exist now and the tables that reference them, then and now. */
  async #tablesToCheck(): Promise<string[]> {
    const tables = new Set<string>();
    for (const name of this.#touched) {
      const before = this.#existed.get(name);
      // A table created and never written has no rows; its old children (a name dropped and
      // created again) are still checked.
      if (!this.#created.has(name) && await this.#exists(name)) {
        tables.add(name);
        if (before) { for (const child of await this.#referencing(name)) tables.add(child); }
      }
      for (const child of before ?? []) tables.add(child);
    }
    const existing: string[] = [];
    for (const name of tables) if (await this.#exists(name)) existing.push(name);
    return existing;
  }

  /** Violations grouped by identity: child table, parent table, foreign-key values. */
  async #identify(violations: readonly Violation[]): Promise<Map<string, Violation[]>> {
    // Read the values per foreign key, many rows a query: a table with a hundred thousand old
    // orphans must not cost a hundred thousand queries (or their memory) per check.
    const byKey = new Map<string, Violation[]>();
    for (const v of violations) {
      const key = `${v.table}\u0000${v.fkid}`;
      const list = byKey.get(key);
      if (list) list.push(v);
      else byKey.set(key, [v]);
    }
    const valuesOf = new Map<Violation, string>();
    for (const list of byKey.values()) {
      const { table, fkid } = list[0];
      const key = await this.#connection.query<{ name: string; to: string | null }>(
        'SELECT "from" AS name, "to" AS "to" FROM pragma_foreign_key_list($1) WHERE id = $2 ' +
          "ORDER BY seq",
        [table, fkid],
      );
      const from = key.map((r) => r.name);
      const withRowid = list.filter((v) => v.rowid !== null);
      const withoutRowid = list.filter((v) => v.rowid === null);
      if (from.length > 0 && withoutRowid.length > 0) {
        await this.#identifyWithoutRowid(withoutRowid, key, valuesOf);
      }
      if (from.length === 0 || withRowid.length === 0) continue;
      const select = `SELECT rowid AS r, ${
        from.map((c, i) => `${quoteIdent(c)} AS c${i}`).join(", ")
      } FROM ${quoteIdent(table)} WHERE rowid IN `;
      for (let at = 0; at < withRowid.length; at += IDENTIFY_CHUNK) {
        const chunk = withRowid.slice(at, at + IDENTIFY_CHUNK);
        // Rowids are integers: written inline, they need no parameter per row.
        const rows = await this.#connection.query<Record<string, unknown>>(
          `${select}(${chunk.map((v) => Math.trunc(v.rowid!)).join(", ")})`,
        );
        const byRowid = new Map(rows.map((row) => [Number(row.r), row]));
        for (const v of chunk) {
          const row = byRowid.get(v.rowid!);
          valuesOf.set(v, keyValues(row, from.length));
        }
      }
    }
    const groups = new Map<string, Violation[]>();
    for (const v of violations) {
      const identity = `${foldIdentifier(v.table)}\u0000${foldIdentifier(v.parent)}\u0000${
        valuesOf.get(v) ?? "?"
      }`;
      const list = groups.get(identity);
      if (list) list.push(v);
      else groups.set(identity, [v]);
    }
    return groups;
  }

  /**
   * The values of violations a WITHOUT ROWID child reports without a rowid: its rows whose key
   * finds no parent row, read with an anti-join and handed out in order. Left unidentified
   * (counted only) when the anti-join does not find as many rows as SQLite reported.
   */
  async #identifyWithoutRowid(
    list: readonly Violation[],
    key: readonly { name: string; to: string | null }[],
    valuesOf: Map<Violation, string>,
  ): Promise<void> {
    const { table, parent } = list[0];
    let to = key.map((k) => k.to);
    if (to.some((name) => name === null)) {
      // No column named: the parent's primary key, in its order.
      const pk = await this.#connection.query<{ name: string }>(
        "SELECT name FROM pragma_table_info($1) WHERE pk > 0 ORDER BY pk",
        [parent],
      );
      if (pk.length !== key.length) return;
      to = pk.map((r) => r.name);
    }
    const child = quoteIdent(table);
    let rows: Record<string, unknown>[];
    try {
      rows = await this.#connection.query<Record<string, unknown>>(
        `SELECT ${
          key.map((k, i) => `c.${quoteIdent(k.name)} AS c${i}`).join(", ")
        } FROM ${child} c ` +
          `WHERE ${key.map((k) => `c.${quoteIdent(k.name)} IS NOT NULL`).join(" AND ")} ` +
          `AND NOT EXISTS (SELECT 1 FROM ${quoteIdent(parent)} p WHERE ${
            key.map((k, i) => `p.${quoteIdent(to[i]!)} = c.${quoteIdent(k.name)}`).join(" AND ")
          })`,
      );
    } catch {
      // A parent that no longer exists, say: these violations are counted, not told apart.
      return;
    }
    if (rows.length !== list.length) return;
    rows.forEach((row, n) => {
      valuesOf.set(list[n], keyValues(row, key.length));
    });
  }

  /** An identity with its table names as the migration's renames left them. */
  #translate(identity: string): string {
    if (this.#renames.length === 0) return identity;
    let [table, parent, values] = identity.split("\u0000");
    for (const [from, to] of this.#renames) {
      if (table === from) table = to;
      if (parent === from) parent = to;
    }
    return `${table}\u0000${parent}\u0000${values}`;
  }

  async #referencing(table: string): Promise<string[]> {
    return (await referencingTables(this.#connection, table)).map((t) => foldIdentifier(t));
  }

  async #allTables(): Promise<string[]> {
    const rows = await this.#connection.query<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    );
    return rows.map((r) => foldIdentifier(r.name));
  }

  async #exists(table: string): Promise<boolean> {
    const rows = await this.#connection.query(
      "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = $1 COLLATE NOCASE",
      [table],
    );
    return rows.length > 0;
  }

  /**
   * Whether a table exists and has triggers (its own, or temp triggers a connection created,
   * which outlive the migration that made them), in one read of the catalogs.
   */
  async #describe(table: string): Promise<{ exists: boolean; triggers: boolean }> {
    const rows = await this.#connection.query<{ type: string }>(
      "SELECT type FROM sqlite_master WHERE (type = 'table' AND name = $1 COLLATE NOCASE) " +
        "OR (type = 'trigger' AND tbl_name = $1 COLLATE NOCASE) " +
        "UNION ALL SELECT type FROM sqlite_temp_master " +
        "WHERE type = 'trigger' AND tbl_name = $1 COLLATE NOCASE",
      [table],
    );
    return {
      exists: rows.some((r) => r.type === "table"),
      triggers: rows.some((r) => r.type === "trigger"),
    };
  }

  /** One table's violations as a child. */
  async #check(table: string): Promise<Violation[]> {
    try {
      const rows = await this.#connection.query<Violation>(
        `PRAGMA foreign_key_check(${quoteIdent(table)})`,
      );
      return rows.map((r) => ({
        table: r.table,
        rowid: r.rowid === null ? null : Number(r.rowid),
        parent: r.parent,
        fkid: Number(r.fkid),
      }));
    } catch (error) {
      const message = String((error as Error)?.message ?? error);
      if (/foreign key mismatch/i.test(message)) throw new UncheckableTable(message);
      throw error;
    }
  }
}
