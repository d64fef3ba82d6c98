/**
 * PostgreSQL for tests: one database per test, dropped afterwards.
 *
 * The server comes from `STRATA_TEST_DATABASE_URL` (set by `scripts/run_tests.ts`, which finds or
 * starts one) or a server on 127.0.0.1:5432. When none answers, {@link pgTest} fails under
 * `CI` with the reason, and elsewhere registers the test as ignored (see `requirement.ts`).
 *
 * @module
 */

import process from "node:process";
import postgres from "postgres";
import { pgAnswers } from "../../scripts/pg_cluster.ts";
import { requiredTest, type Requirement } from "./requirement.ts";
import { openConnection } from "../../lib/db/open.ts";

const LOCAL = "postgres://postgres@127.0.0.1:5432/postgres";
let serverUrl: Promise<string | null> | undefined;

/** The maintenance URL of the test server, or null when there is none. */
export function testServerUrl(): Promise<string | null> {
  serverUrl ??= (async () => {
    const url = process.env.STRATA_TEST_DATABASE_URL ?? LOCAL;
    return await pgAnswers(url) ? url : null;
  })();
  return serverUrl;
}

/** The URL of another database on the same server. */
export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Create a fresh database; returns its URL and a function that drops it. */
export async function createTestDatabase(
  prefix = "strata_t",
): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const server = await testServerUrl();
  if (!server) throw new Error("No PostgreSQL server for tests");
  const name = `${prefix}_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = postgres(server, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: databaseUrl(server, name),
    name,
    drop: async () => {
      const sql = postgres(server, { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await sql.end();
      }
    },
  };
}

/** A PostgreSQL server for tests, probed once when this module loads. */
export const POSTGRES: Requirement = {
  missing: await testServerUrl() === null ? "no PostgreSQL server" : null,
  remedy: "set STRATA_TEST_DATABASE_URL, start one on 127.0.0.1:5432, or run through " +
    "`deno task test`, which starts one",
};

/**
 * Register a test that needs PostgreSQL. It receives a new database's URL, dropped after.
 * Without a server: fails under `CI`, otherwise is ignored (see `requirement.ts`).
 */
export function pgTest(name: string, fn: (url: string) => Promise<void>): void {
  requiredTest(`[postgres] ${name}`, POSTGRES, () => withTestDatabase(fn));
}

/** Run `fn` with a new database's URL; the database is dropped afterwards. */
export async function withTestDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const db = await createTestDatabase();
  try {
    return await fn(db.url);
  } finally {
    await db.drop();
  }
}

/** Run one query on its own session to `url` and close it. */
export async function queryOnce<T>(url: string, sql: string): Promise<T[]> {
  const connection = openConnection(url);
  try {
    return await connection.query<T & Record<string, unknown>>(sql);
  } finally {
    await connection.close();
  }
}
