/**
 * Executors for tests: the `Executor` contract over a real node:sqlite database or a porsager
 * connection, recording every statement and comment, so tests can run operations exactly as
 * the runner will and then assert both the SQL sent and the database's state.
 *
 * @module
 */

import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import type { Executor, Row } from "../../lib/ops/executor.ts";
import { tokenize } from "../../lib/sql/lexer.ts";

/** An executor that also keeps what it was sent. */
export interface RecordingExecutor extends Executor {
  readonly statements: string[];
  readonly comments: string[];
}

/** `$1` parameters become SQLite's numbered `?1` (outside strings and quoted names). */
export function toSqliteParams(sql: string): string {
  const tokens = tokenize(sql);
  let out = "";
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token.kind === "punct" && token.text === "$" && tokens[i + 1]?.kind === "number") {
      out += `?${tokens[++i].text}`;
    } else {
      out += token.text;
    }
  }
  return out;
}

function sqliteValue(value: unknown): SQLInputValue {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value === undefined) return null;
  return value as SQLInputValue;
}

/** An executor over a node:sqlite database. */
export function sqliteExecutor(
  db: DatabaseSync,
  options: { inTransaction?: boolean; dryRun?: boolean } = {},
): RecordingExecutor {
  const statements: string[] = [];
  const comments: string[] = [];
  return {
    dialect: "sqlite",
    inTransaction: options.inTransaction ?? true,
    dryRun: options.dryRun ?? false,
    statements,
    comments,
    run(statement, params = []) {
      statements.push(statement);
      db.prepare(toSqliteParams(statement)).run(...params.map(sqliteValue));
      return Promise.resolve();
    },
    query<T extends Row = Row>(statement: string, params: readonly unknown[] = []) {
      return Promise.resolve(
        // Plain objects, as a driver's rows usually are (node:sqlite's have a null prototype).
        db.prepare(toSqliteParams(statement)).all(...params.map(sqliteValue)).map((row) => ({
          ...row,
        })) as T[],
      );
    },
    comment(text) {
      comments.push(text);
    },
  };
}

/** The part of a porsager connection the executor uses. */
export interface PostgresSession {
  // deno-lint-ignore no-explicit-any
  unsafe(query: string, params?: any[]): PromiseLike<readonly any[]>;
}

/** An executor over a porsager connection (or reserved session). */
export function postgresExecutor(
  session: PostgresSession,
  options: { inTransaction?: boolean; dryRun?: boolean } = {},
): RecordingExecutor {
  const statements: string[] = [];
  const comments: string[] = [];
  return {
    dialect: "postgresql",
    inTransaction: options.inTransaction ?? true,
    dryRun: options.dryRun ?? false,
    statements,
    comments,
    async run(statement, params = []) {
      statements.push(statement);
      await session.unsafe(statement, [...params]);
    },
    async query<T extends Row = Row>(statement: string, params: readonly unknown[] = []) {
      return [...await session.unsafe(statement, [...params])] as T[];
    },
    comment(text) {
      comments.push(text);
    },
  };
}
