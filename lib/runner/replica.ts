/**
 * A database at a chain's head, built for comparison (autogenerate, `check`): SQLite replays
 * the chain into an in-memory database; PostgreSQL creates a scratch database on the server
 * of a given URL, replays the chain there, and drops it afterwards.
 *
 * @module
 */

import type { Connection } from "../db/connection.ts";
import { openPostgres } from "../db/postgres.ts";
import { openSqlite } from "../db/sqlite.ts";
import { quoteIdent } from "../dialect/quote.ts";
import type { Chain } from "../project.ts";
import { planUpgrade } from "./plan.ts";
import { ensureBookkeeping, executePlan } from "./runner.ts";

/** A database at the head of a chain; `dispose` closes it (and drops a scratch database). */
export interface Replica {
  readonly connection: Connection;
  dispose(): Promise<void>;
}

/** The version table replicas use (it never meets a real one). */
const REPLICA_VERSION_TABLE = "alembic_version";

async function replay(connection: Connection, chain: Chain): Promise<void> {
  await ensureBookkeeping(connection, REPLICA_VERSION_TABLE);
  const target = chain.graph.heads.length > 1 ? "heads" : "head";
  const steps = chain.revisions.length === 0 ? [] : planUpgrade(chain.graph, [], target);
  await executePlan(
    {
      dialect: chain.dialect,
      connection,
      versionTable: REPLICA_VERSION_TABLE,
      dryRun: false,
      command: "replica",
    },
    steps,
    null,
  );
}

/**
 * Build a database at the chain's head. PostgreSQL needs `serverUrl`: any database on the
 * server where the scratch database may be created (the user needs CREATEDB).
 */
export async function headReplica(chain: Chain, serverUrl?: string): Promise<Replica> {
  if (chain.dialect === "sqlite") {
    const connection = openSqlite(":memory:", { displayUrl: "sqlite::memory: (replica)" });
    try {
      await replay(connection, chain);
    } catch (error) {
      await connection.close();
      throw error;
    }
    return { connection, dispose: () => connection.close() };
  }
  if (!serverUrl) {
    throw new Error(
      "Cannot build a PostgreSQL database at head: no server (pass --url postgresql://...)",
    );
  }
  const name = `strata_replica_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = openPostgres(serverUrl, { applicationName: "strata (replica)" });
  await admin.execute(`CREATE DATABASE ${quoteIdent(name)}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const connection = openPostgres(url.toString(), { applicationName: "strata (replica)" });
  const dispose = async () => {
    await connection.close().catch(() => {});
    try {
      await admin.execute(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    } finally {
      await admin.close();
    }
  };
  try {
    await replay(connection, chain);
  } catch (error) {
    await dispose();
    throw error;
  }
  return { connection, dispose };
}
