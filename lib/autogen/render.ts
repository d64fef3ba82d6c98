/**
 * Render operations as a TypeScript migration file: the format of DESIGN.md "TypeScript
 * migrations", calling `op` and `t` from the context, so the file needs no runtime import of
 * strata. The output is laid out as `deno fmt` would (two-space indent, double quotes,
 * trailing commas, lines within 100 columns), so a generated file stays clean under it.
 *
 * @module
 */

import type { Operation } from "../ops/operations.ts";
import type { ColumnType } from "../ops/types.ts";

const WIDTH = 100;
const INDENT = "  ";

/** What goes into a migration file besides its operations. */
export interface MigrationFileOptions {
  readonly revision: string;
  readonly downRevision: string | readonly string[] | null;
  readonly message: string;
  readonly createDate?: Date;
  /** Remarks on differences no operation could express, written as comments in each half. */
  readonly upgradeWarnings?: readonly string[];
  readonly downgradeWarnings?: readonly string[];
  /**
   * Where `MigrationContext` is imported from (type-only), e.g. `"jsr:@strata/strata"`.
   * Without it the file declares `type MigrationContext = any` and imports nothing.
   */
  readonly typeImport?: string;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function isColumnType(value: unknown): value is ColumnType {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    typeof (value as { type?: unknown }).type === "string";
}

/** A column type as a call of the context's `t`. */
export function renderTypeCall(type: ColumnType): string {
  switch (type.type) {
    case "numeric":
      return type.precision === undefined
        ? "t.numeric()"
        : `t.numeric(${type.precision}${type.scale === undefined ? "" : `, ${type.scale}`})`;
    case "varchar":
      return `t.varchar(${type.length ?? ""})`;
    case "timestamp":
      return type.withTimeZone ? "t.timestamp({ withTimeZone: true })" : "t.timestamp()";
    case "enum":
      return `t.enum(${JSON.stringify(type.name)}, ${inline(type.values)})`;
    case "raw":
      return `t.raw(${JSON.stringify(type.sql)})`;
    default:
      return `t.${type.type}()`;
  }
}

/** A value written on one line. */
function inline(value: unknown, key?: string): string {
  if (key === "type" && isColumnType(value)) return renderTypeCall(value);
  if (value === undefined) return "undefined";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value !== "object" || value === null) return String(value);
  if (Array.isArray(value)) return `[${value.map((item) => inline(item)).join(", ")}]`;
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return "{}";
  return `{ ${entries.map(([k, v]) => `${property(k)}: ${inline(v, k)}`).join(", ")} }`;
}

function property(key: string): string {
  return IDENT.test(key) ? key : JSON.stringify(key);
}

/** A value at `depth` indentation, broken over lines when it does not fit in `room`. */
function format(value: unknown, depth: number, room: number, key?: string): string {
  const one = inline(value, key);
  if (one.length <= room || typeof value !== "object" || value === null) return one;
  if (key === "type" && isColumnType(value)) return one;
  const pad = INDENT.repeat(depth + 1);
  const end = INDENT.repeat(depth);
  const available = WIDTH - pad.length - 1;
  if (Array.isArray(value)) {
    const items = value.map((item) => `${pad}${format(item, depth + 1, available)},`);
    return `[\n${items.join("\n")}\n${end}]`;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  const lines = entries.map(([k, v]) => {
    const head = `${property(k)}: `;
    return `${pad}${head}${format(v, depth + 1, available - head.length, k)},`;
  });
  return `{\n${lines.join("\n")}\n${end}}`;
}

/** `target.method(args)` at `depth`, arguments broken over lines when needed. */
function call(target: string, method: string, args: unknown[], depth: number): string {
  const pad = INDENT.repeat(depth);
  const head = `${target}.${method}(`;
  const one = `${pad}${head}${args.map((arg) => inline(arg)).join(", ")});`;
  if (one.length <= WIDTH) return one;
  // Every argument but the last on the first line when they fit; the last one broken.
  const firsts = args.slice(0, -1).map((arg) => inline(arg));
  const lead = `${pad}${head}${firsts.map((a) => `${a}, `).join("")}`;
  const last = args[args.length - 1];
  if (lead.length < WIDTH - 10 && typeof last === "object" && last !== null) {
    const tail = format(last, depth, WIDTH - lead.length - 2);
    const lines = tail.split("\n");
    if (lines[0].length + lead.length <= WIDTH) return `${lead}${tail});`;
  }
  const inner = INDENT.repeat(depth + 1);
  const items = args.map((arg) => `${inner}${format(arg, depth + 1, WIDTH - inner.length - 1)},`);
  return `${pad}${head}\n${items.join("\n")}\n${pad});`;
}

/** Arguments of an operation's `op` call (or, with `inBatch`, of the batch method). */
function operationCall(op: Operation, inBatch: boolean): [string, unknown[]] {
  const t = (table: string) => (inBatch ? [] : [table]);
  const opts = (value: Record<string, unknown>) =>
    Object.values(value).some((v) => v !== undefined) ? [value] : [];
  switch (op.kind) {
    case "createTable":
      return [op.kind, [op.table, op.columns, ...opts({ ...op.options })]];
    case "dropTable":
      return [op.kind, [op.table, ...opts({ ifExists: op.ifExists })]];
    case "renameTable":
      return [op.kind, [op.from, op.to]];
    case "addColumn":
      return [op.kind, [...t(op.table), op.column]];
    case "dropColumn":
      return [op.kind, [...t(op.table), op.column]];
    case "alterColumn":
      return [op.kind, [...t(op.table), op.column, op.changes]];
    case "createPrimaryKey":
      return [op.kind, [...t(op.table), op.columns, ...(op.name === undefined ? [] : [op.name])]];
    case "createUnique":
    case "createCheck":
    case "createForeignKey":
      return [op.kind, [...t(op.table), op.constraint]];
    case "dropConstraint":
      return [op.kind, [...t(op.table), op.name]];
    case "createIndex":
      return [
        op.kind,
        inBatch
          ? [op.name, op.columns, ...opts({ ...op.options })]
          : [op.name, op.table, op.columns, ...opts({ ...op.options })],
      ];
    case "dropIndex":
      return [
        op.kind,
        inBatch ? [op.name] : [
          op.name,
          ...opts({ table: op.table, concurrently: op.concurrently, ifExists: op.ifExists }),
        ],
      ];
    case "createEnum":
      return [op.kind, [op.name, op.values]];
    case "dropEnum":
      return [op.kind, [op.name, ...opts({ ifExists: op.ifExists })]];
    case "addEnumValue":
      return [
        op.kind,
        [
          op.name,
          op.value,
          ...opts({ before: op.before, after: op.after, ifNotExists: op.ifNotExists }),
        ],
      ];
    case "execute":
      return [op.kind, [op.sql, ...(op.params === undefined ? [] : [op.params])]];
    case "bulkInsert":
      return [op.kind, [op.table, op.rows]];
    case "batch":
      return [op.kind, [op.table]];
  }
}

/**
 * The statements of a migration function's body, one `await op....` per operation, at `depth`.
 *
 * @example
 * ```ts
 * import { renderOperations } from "./render.ts";
 * renderOperations([{ kind: "dropColumn", table: "flow", column: "labels" }], 1);
 * // ['  await op.dropColumn("flow", "labels");']
 * ```
 */
export function renderOperations(
  ops: readonly Operation[],
  depth: number,
  batchParameter = "b",
): string[] {
  const lines: string[] = [];
  for (const op of ops) {
    if (op.kind === "batch") {
      const pad = INDENT.repeat(depth);
      lines.push(
        `${pad}await op.batchAlterTable(${JSON.stringify(op.table)}, (${batchParameter}) => {`,
      );
      for (const child of op.operations) {
        const [method, args] = operationCall(child, true);
        lines.push(call("b", method, args, depth + 1));
      }
      lines.push(`${pad}});`);
      continue;
    }
    const [method, args] = operationCall(op, false);
    const text = call("op", method, args, depth);
    lines.push(text.replace(/^(\s*)op\./, "$1await op."));
  }
  return lines;
}

function usesTypes(ops: readonly Operation[]): boolean {
  return ops.some((op) =>
    op.kind === "addColumn" || op.kind === "createTable" ||
    (op.kind === "alterColumn" && op.changes.type !== undefined) ||
    (op.kind === "batch" && usesTypes(op.operations))
  );
}

function renderFunction(
  name: "upgrade" | "downgrade",
  ops: readonly Operation[],
  warnings: readonly string[],
  typed: boolean,
): string[] {
  const notes = warnings.map((warning) => `  // TODO(strata autogenerate): ${warning}`);
  if (ops.length === 0) {
    return [
      `export function ${name}(_context: MigrationContext): void {`,
      ...notes,
      ...(notes.length ? [] : ["  // No changes."]),
      "}",
    ];
  }
  const names = ["op", ...(usesTypes(ops) ? ["t"] : [])];
  return [
    `export async function ${name}({ ${names.join(", ")} }: MigrationContext): Promise<void> {`,
    ...notes,
    ...renderOperations(ops, 1, typed ? "b" : "b: any"),
    "}",
  ];
}

/**
 * A whole TypeScript migration file for the operations of both directions.
 *
 * @example
 * ```ts
 * import { renderMigration } from "./render.ts";
 * const source = renderMigration(
 *   [{ kind: "dropColumn", table: "flow", column: "labels" }],
 *   [{ kind: "addColumn", table: "flow", column: { name: "labels", type: { type: "json" } } }],
 *   { revision: "5952a5498b51", downRevision: "4ad4658cbefe", message: "Drop labels" },
 * );
 * source.includes('export const revision = "5952a5498b51";'); // true
 * ```
 */
export function renderMigration(
  upgrade: readonly Operation[],
  downgrade: readonly Operation[],
  options: MigrationFileOptions,
): string {
  const down = options.downRevision === null
    ? "null"
    : typeof options.downRevision === "string"
    ? JSON.stringify(options.downRevision)
    : inline([...options.downRevision]);
  const revises = options.downRevision === null
    ? "<base>"
    : typeof options.downRevision === "string"
    ? options.downRevision
    : options.downRevision.join(", ");
  const date = (options.createDate ?? new Date()).toISOString();
  const typed = options.typeImport !== undefined;
  const lines = [
    ...(typed ? [] : ["// deno-lint-ignore-file no-explicit-any"]),
    "/**",
    ...options.message.split("\n").map((line) => ` * ${line}`.trimEnd()),
    " *",
    ` * Revision ID: ${options.revision}`,
    ` * Revises: ${revises}`,
    ` * Create Date: ${date}`,
    " *",
    " * Generated by strata autogenerate: review it before applying.",
    " */",
    ...(options.typeImport
      ? [`import type { MigrationContext } from ${JSON.stringify(options.typeImport)};`]
      : [
        "// The context's type, without importing strata (see its MigrationContext).",
        "type MigrationContext = any;",
      ]),
    "",
    `export const revision = ${JSON.stringify(options.revision)};`,
    `export const downRevision: string | string[] | null = ${down};`,
    `export const message = ${JSON.stringify(options.message)};`,
    "",
    ...renderFunction("upgrade", upgrade, options.upgradeWarnings ?? [], typed),
    "",
    ...renderFunction("downgrade", downgrade, options.downgradeWarnings ?? [], typed),
    "",
  ];
  return lines.join("\n");
}
