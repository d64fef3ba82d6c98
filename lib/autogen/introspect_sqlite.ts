/**
 * Read a SQLite database's schema into a {@link SchemaModel}.
 *
 * The pragmas give columns, keys, indexes and foreign keys; what they leave out (constraint
 * names, CHECK expressions, collations, `AUTOINCREMENT`, index expressions and predicates) is
 * read from the `CREATE TABLE` / `CREATE INDEX` text SQLite keeps in `sqlite_master`. An enum
 * is a VARCHAR with an unnamed `CHECK (col IN ('a', 'b'))`, which is how strata (and
 * SQLAlchemy) write one; such a column reads back as an enum type, named after its column.
 *
 * @module
 */

import type { Connection } from "../db/connection.ts";
import type { IndexColumn } from "../ops/operations.ts";
import type { ColumnType, ReferentialAction } from "../ops/types.ts";
import {
  identifierOf,
  isSignificant,
  joinTokens,
  splitTopLevel,
  type SqlToken,
  tokenize,
} from "../sql/lexer.ts";
import type {
  CheckModel,
  ColumnModel,
  ForeignKeyModel,
  IndexModel,
  SchemaModel,
  TableModel,
  UniqueModel,
} from "./model.ts";
import { isStrataTable, nameKey, sortedByName } from "./model.ts";
import {
  matchingParen,
  numericOf,
  reflectedDefault,
  splitTypeSpelling,
  stripOuterParens,
} from "./sql_text.ts";

/** Options of the introspectors. */
export interface IntrospectOptions {
  /** The version table's name (left out of the model), default `alembic_version`. */
  readonly versionTable?: string;
}

/**
 * A SQLite declared type as a portable type (the inverse of the dialect's `renderType`, so a
 * column strata created reads back as what created it, up to SQLite's spelling).
 *
 * @example
 * ```ts
 * import { parseSqliteType } from "./introspect_sqlite.ts";
 * parseSqliteType("VARCHAR(255)"); // { type: "varchar", length: 255 }
 * parseSqliteType("CHAR(36)"); // { type: "uuid" }
 * ```
 */
export function parseSqliteType(declared: string): ColumnType {
  const spelling = splitTypeSpelling(declared);
  const { spelled: text, name, length } = spelling;
  switch (name) {
    case "integer":
    case "int":
      return length === undefined ? { type: "integer" } : { type: "raw", sql: text };
    case "bigint":
      return { type: "bigint" };
    case "smallint":
      return { type: "smallint" };
    case "float":
    case "real":
    case "double":
    case "double precision":
      return { type: "float" };
    case "numeric":
    case "decimal":
      return numericOf(spelling);
    case "boolean":
      return { type: "boolean" };
    case "text":
      return { type: "text" };
    case "varchar":
    case "character varying":
      return length === undefined ? { type: "varchar" } : { type: "varchar", length };
    case "char":
      return length === 36 ? { type: "uuid" } : { type: "raw", sql: text };
    case "json":
      return { type: "json" };
    case "datetime":
    case "timestamp":
      return { type: "timestamp", withTimeZone: false };
    case "date":
      return { type: "date" };
    case "blob":
      return { type: "blob" };
  }
  return { type: "raw", sql: text };
}

// ---------------------------------------------------------------------------------------------
// What the CREATE TABLE text says beyond the pragmas

interface ParsedColumn {
  collation?: string;
  checks: CheckModel[];
  uniqueName?: string;
  referenceName?: string;
  primaryKeyName?: string;
  autoincrement: boolean;
}

interface ParsedConstraint {
  readonly keyword: string;
  readonly name?: string;
  readonly columns: readonly string[];
  readonly expression?: string;
  readonly refTable?: string;
}

interface ParsedTable {
  readonly columns: Map<string, ParsedColumn>;
  readonly constraints: readonly ParsedConstraint[];
}

function word(token: SqlToken | undefined): string {
  return token?.kind === "word" ? token.text.toUpperCase() : "";
}

/** Identifiers of a parenthesised list (`(a, "b" COLLATE NOCASE, c DESC)`). */
function identifierList(tokens: readonly SqlToken[]): string[] {
  return splitTopLevel(tokens, ",").flatMap((part) => {
    const first = part.find(isSignificant);
    const name = first ? identifierOf(first) : undefined;
    return name === undefined ? [] : [name];
  });
}

/** The tokens inside the parentheses that open at `at`, and the index after. */
function parenthesised(tokens: readonly SqlToken[], at: number): [SqlToken[], number] {
  const close = matchingParen(tokens, at);
  if (close < 0) return [[], tokens.length];
  return [tokens.slice(at + 1, close), close + 1];
}

/** Read constraint names, CHECKs, collations and AUTOINCREMENT from a CREATE TABLE. */
export function parseCreateTableText(sql: string): ParsedTable {
  const tokens = tokenize(sql);
  const open = tokens.findIndex((token) => token.kind === "punct" && token.text === "(");
  const [body] = open < 0 ? [[]] : parenthesised(tokens, open);
  const columns = new Map<string, ParsedColumn>();
  const constraints: ParsedConstraint[] = [];
  for (const part of splitTopLevel(body, ",")) {
    const first = part.findIndex(isSignificant);
    if (first < 0) continue;
    const keyword = word(part[first]);
    if (["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"].includes(keyword)) {
      constraints.push(parseTableConstraint(part.slice(first)));
    } else {
      const name = identifierOf(part[first]) ?? part[first].text;
      columns.set(nameKey(name), parseColumnConstraints(part.slice(first + 1)));
    }
  }
  return { columns, constraints };
}

/** The index of the next significant token after `i`, or the length. */
function nextSignificant(tokens: readonly SqlToken[], i: number): number {
  let k = i + 1;
  while (k < tokens.length && !isSignificant(tokens[k])) k++;
  return k;
}

function parseTableConstraint(tokens: SqlToken[]): ParsedConstraint {
  let i = 0;
  let name: string | undefined;
  if (word(tokens[0]) === "CONSTRAINT") {
    const at = nextSignificant(tokens, 0);
    name = identifierOf(tokens[at]);
    i = nextSignificant(tokens, at);
  }
  const keyword = word(tokens[i]);
  const open = tokens.findIndex((token, k) => k > i && token.text === "(");
  const [inner, after] = open < 0 ? [[], tokens.length] : parenthesised(tokens, open);
  if (keyword === "CHECK") {
    return { keyword, name, columns: [], expression: joinSpaced(inner) };
  }
  const refAt = tokens.findIndex((token, k) => k >= after && word(token) === "REFERENCES");
  return {
    keyword,
    name,
    columns: identifierList(inner),
    ...(refAt >= 0 ? { refTable: identifierOf(tokens[nextSignificant(tokens, refAt)]) } : {}),
  };
}

function parseColumnConstraints(tokens: SqlToken[]): ParsedColumn {
  const column: ParsedColumn = { checks: [], autoincrement: false };
  let pending: string | undefined;
  for (let i = 0; i < tokens.length; i++) {
    if (!isSignificant(tokens[i])) continue;
    const keyword = word(tokens[i]);
    const next = nextSignificant(tokens, i);
    switch (keyword) {
      case "CONSTRAINT":
        pending = identifierOf(tokens[next]);
        i = next;
        continue;
      case "COLLATE":
        column.collation = identifierOf(tokens[next]);
        i = next;
        break;
      case "CHECK": {
        if (tokens[next]?.text !== "(") break;
        const [inner, after] = parenthesised(tokens, next);
        column.checks.push({
          ...(pending === undefined ? {} : { name: pending }),
          expression: joinSpaced(inner),
        });
        i = after - 1;
        break;
      }
      case "UNIQUE":
        column.uniqueName = pending;
        break;
      case "REFERENCES":
        column.referenceName = pending;
        break;
      case "PRIMARY":
        column.primaryKeyName = pending;
        break;
      case "AUTOINCREMENT":
        column.autoincrement = true;
        break;
      case "DEFAULT":
        // The value may be a parenthesised expression holding any keyword.
        if (tokens[next]?.text === "(") i = parenthesised(tokens, next)[1] - 1;
        else i = next;
        break;
      default:
        if (tokens[i].text === "(") i = parenthesised(tokens, i)[1] - 1;
        continue;
    }
    pending = undefined;
  }
  return column;
}

/** Significant tokens joined with single spaces where the source had any. */
function joinSpaced(tokens: readonly SqlToken[]): string {
  return joinTokens(
    tokens.map((token) => token.kind === "space" ? { ...token, text: " " } : token),
  );
}

/** The values of `col IN ('a', 'b')` when `expression` is exactly that, for column `col`. */
function enumValues(expression: string): { column: string; values: string[] } | undefined {
  const tokens = tokenize(stripOuterParens(expression)).filter(isSignificant);
  const column = identifierOf(tokens[0] ?? { kind: "punct", text: "" });
  if (column === undefined || word(tokens[1]) !== "IN" || tokens[2]?.text !== "(") return undefined;
  const close = matchingParen(tokens, 2);
  if (close !== tokens.length - 1) return undefined;
  const values: string[] = [];
  const inner = tokens.slice(3, close);
  for (let i = 0; i < inner.length; i++) {
    if (i % 2 === 1) {
      if (inner[i].text !== ",") return undefined;
      continue;
    }
    if (inner[i].kind !== "string") return undefined;
    values.push(inner[i].text.slice(1, -1).replaceAll("''", "'"));
  }
  return values.length > 0 ? { column, values } : undefined;
}

/** Columns and expressions of a `CREATE INDEX`, and its `WHERE`. */
export function parseCreateIndexText(
  sql: string,
): { columns: IndexColumn[]; where?: string } {
  const tokens = tokenize(sql);
  const on = tokens.findIndex((token) => word(token) === "ON");
  const open = tokens.findIndex((token, i) => i > on && token.text === "(");
  if (on < 0 || open < 0) return { columns: [] };
  const [inner, after] = parenthesised(tokens, open);
  const columns = splitTopLevel(inner, ",").map((part): IndexColumn => {
    const significant = part.filter(isSignificant);
    // ASC/DESC are not kept. A column with COLLATE (`name COLLATE NOCASE`) is kept as an
    // expression: the collation decides which queries the index serves.
    let end = significant.length;
    while (end > 1 && ["ASC", "DESC"].includes(word(significant[end - 1]))) end--;
    const name = end === 1 ? identifierOf(significant[0]) : undefined;
    if (name !== undefined) return name;
    const first = part.indexOf(significant[0]);
    const last = part.indexOf(significant[end - 1]);
    return { expression: stripOuterParens(joinSpaced(part.slice(first, last + 1))) };
  });
  const rest = tokens.slice(after);
  const whereAt = rest.findIndex((token) => word(token) === "WHERE");
  return {
    columns,
    ...(whereAt >= 0 ? { where: joinSpaced(rest.slice(whereAt + 1)) } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Reading the database

interface ColumnRow extends Record<string, unknown> {
  name: string;
  type: string;
  notnull: number;
  dflt_value: string | null;
  pk: number;
}

interface IndexListRow extends Record<string, unknown> {
  name: string;
  unique: number;
  origin: string;
  partial: number;
}

interface ForeignKeyRow extends Record<string, unknown> {
  id: number;
  seq: number;
  table: string;
  from: string;
  to: string | null;
  on_update: string;
  on_delete: string;
}

function action(text: string): ReferentialAction {
  const upper = text.toUpperCase();
  return (["CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT"].includes(upper)
    ? upper
    : "NO ACTION") as ReferentialAction;
}

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => nameKey(name) === nameKey(b[i]));
}

/**
 * The schema of a SQLite database, without strata's own tables.
 *
 * @example
 * ```ts ignore
 * const model = await introspectSqlite(openConnection("sqlite:./app.db"));
 * model.tables.map((table) => table.name);
 * ```
 */
export async function introspectSqlite(
  connection: Connection,
  options: IntrospectOptions = {},
): Promise<SchemaModel> {
  const master = await connection.query<
    { type: string; name: string; tbl_name: string; sql: string | null }
  >("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name");
  const primaryKeys = new Map<string, string[]>();
  const pending: { table: TableModel; rows: ForeignKeyRow[]; parsed: ParsedTable }[] = [];
  for (const entry of master) {
    if (entry.type !== "table" || entry.sql === null) continue;
    if (entry.name.startsWith("sqlite_") || isStrataTable(entry.name, options.versionTable)) {
      continue;
    }
    const parsed = parseCreateTableText(entry.sql);
    const columnRows = await connection.query<ColumnRow>(
      'SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info($1) ORDER BY cid',
      [entry.name],
    );
    const pkColumns = columnRows.filter((row) => Number(row.pk) > 0)
      .sort((a, b) => Number(a.pk) - Number(b.pk)).map((row) => row.name);
    primaryKeys.set(nameKey(entry.name), pkColumns);

    // Enum CHECKs belong to their column's type, not to the table's checks.
    const allChecks: CheckModel[] = [
      ...[...parsed.columns.values()].flatMap((column) => column.checks),
      ...parsed.constraints.filter((c) => c.keyword === "CHECK").map((c) => ({
        ...(c.name === undefined ? {} : { name: c.name }),
        expression: c.expression ?? "",
      })),
    ];
    const enums = new Map<string, string[]>();
    const checks: CheckModel[] = [];
    for (const check of allChecks) {
      const found = check.name === undefined ? enumValues(check.expression) : undefined;
      if (
        found && columnRows.some((row) => nameKey(row.name) === nameKey(found.column)) &&
        !enums.has(nameKey(found.column))
      ) {
        enums.set(nameKey(found.column), found.values);
      } else {
        checks.push(check);
      }
    }

    const columns: ColumnModel[] = columnRows.map((row) => {
      const extra = parsed.columns.get(nameKey(row.name));
      const values = enums.get(nameKey(row.name));
      const type: ColumnType = values
        ? { type: "enum", name: row.name, values }
        : parseSqliteType(row.type);
      const defaultValue = reflectedDefault(row.dflt_value);
      return {
        name: row.name,
        type,
        nullable: Number(row.notnull) === 0 && Number(row.pk) === 0,
        ...(defaultValue === undefined ? {} : { default: defaultValue }),
        ...(extra?.collation === undefined ? {} : { collation: extra.collation }),
        autoincrement: extra?.autoincrement ?? false,
      };
    });

    const primaryKeyName = parsed.constraints.find((c) => c.keyword === "PRIMARY")?.name ??
      [...parsed.columns.values()].find((c) => c.primaryKeyName !== undefined)?.primaryKeyName;

    const uniques: UniqueModel[] = [];
    const indexes: IndexModel[] = [];
    const indexList = await connection.query<IndexListRow>(
      'SELECT name, "unique", origin, partial FROM pragma_index_list($1) ORDER BY name',
      [entry.name],
    );
    for (const index of indexList) {
      if (index.origin === "pk") continue;
      if (index.origin === "u") {
        const info = await connection.query<{ name: string | null }>(
          "SELECT name FROM pragma_index_info($1) ORDER BY seqno",
          [index.name],
        );
        const cols = info.map((row) => row.name ?? "");
        const name = cols.length === 1
          ? parsed.columns.get(nameKey(cols[0]))?.uniqueName ??
            parsed.constraints.find((c) => c.keyword === "UNIQUE" && sameColumns(c.columns, cols))
              ?.name
          : parsed.constraints.find((c) => c.keyword === "UNIQUE" && sameColumns(c.columns, cols))
            ?.name;
        uniques.push({ ...(name === undefined ? {} : { name }), columns: cols });
        continue;
      }
      const sql = master.find((m) => m.type === "index" && m.name === index.name)?.sql;
      if (!sql) continue;
      const { columns: indexColumns, where } = parseCreateIndexText(sql);
      indexes.push({
        name: index.name,
        columns: indexColumns,
        unique: Number(index.unique) === 1,
        ...(where === undefined ? {} : { where }),
        include: [],
        opclass: {},
      });
    }

    const table: TableModel = {
      name: entry.name,
      columns,
      ...(pkColumns.length > 0
        ? {
          primaryKey: {
            ...(primaryKeyName === undefined ? {} : { name: primaryKeyName }),
            columns: pkColumns,
          },
        }
        : {}),
      uniques,
      checks,
      foreignKeys: [],
      indexes: sortedByName(indexes),
    };
    const rows = await connection.query<ForeignKeyRow>(
      'SELECT id, seq, "table", "from", "to", on_update, on_delete ' +
        "FROM pragma_foreign_key_list($1) ORDER BY id, seq",
      [entry.name],
    );
    pending.push({ table, rows, parsed });
  }

  // Foreign keys last: one that names no column references its parent's primary key.
  const finished = pending.map(({ table, rows, parsed }) => {
    const groups = new Map<number, ForeignKeyRow[]>();
    for (const row of rows) {
      groups.set(Number(row.id), [...(groups.get(Number(row.id)) ?? []), row]);
    }
    // pragma_foreign_key_list numbers keys from the last declared; report them in table order.
    const foreignKeys: ForeignKeyModel[] = [...groups.entries()].sort((a, b) => b[0] - a[0])
      .map(([, group]) => {
        const cols = group.map((row) => row.from);
        const refTable = group[0].table;
        const refColumns = group.every((row) => row.to !== null)
          ? group.map((row) => row.to as string)
          : primaryKeys.get(nameKey(refTable)) ?? [];
        const name = cols.length === 1 && parsed.columns.get(nameKey(cols[0]))?.referenceName
          ? parsed.columns.get(nameKey(cols[0]))?.referenceName
          : parsed.constraints.find((c) =>
            c.keyword === "FOREIGN" && sameColumns(c.columns, cols) &&
            nameKey(c.refTable ?? "") === nameKey(refTable)
          )?.name;
        return {
          ...(name === undefined ? {} : { name }),
          columns: cols,
          refTable,
          refColumns,
          onDelete: action(group[0].on_delete),
          onUpdate: action(group[0].on_update),
        };
      });
    return { ...table, foreignKeys };
  });
  return { dialect: "sqlite", tables: sortedByName(finished), enums: [] };
}
