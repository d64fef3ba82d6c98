/**
 * Find a PostgreSQL server for tests and benchmarks, or start a throwaway one.
 *
 * Order: `STRATA_TEST_DATABASE_URL` when set; a server on 127.0.0.1:5432 when one answers;
 * otherwise a new cluster made with `initdb` and started with `pg_ctl` on a free port (as the
 * `postgres` user when running as root), stopped and removed by {@link PgServer.stop}.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import postgres from "postgres";

/** A server that tests can create databases on. */
export interface PgServer {
  /** URL of a maintenance database (`postgres`) on the server. */
  readonly url: string;
  /** Where it came from, for the test summary. */
  readonly origin: "env" | "local" | "throwaway";
  stop(): Promise<void>;
}

/** True when the server at a URL answers `SELECT 1`. */
export async function pgAnswers(url: string, timeoutSeconds = 3): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: timeoutSeconds, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

function findBinary(name: string): string | null {
  const candidates = [
    ...(process.env.PATH ?? "").split(":").map((dir) => path.join(dir, name)),
    ...listPgBinDirs().map((dir) => path.join(dir, name)),
  ];
  return candidates.find((file) => fs.existsSync(file)) ?? null;
}

function listPgBinDirs(): string[] {
  try {
    return fs.readdirSync("/usr/lib/postgresql").sort().reverse()
      .map((v) => `/usr/lib/postgresql/${v}/bin`);
  } catch {
    return [];
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** Start a throwaway cluster with initdb/pg_ctl. Throws with the reason when it cannot. */
export async function startThrowawayCluster(): Promise<PgServer> {
  const initdb = findBinary("initdb");
  const pgCtl = findBinary("pg_ctl");
  if (!initdb || !pgCtl) throw new Error("initdb/pg_ctl not found on PATH or /usr/lib/postgresql");
  const asRoot = process.getuid?.() === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "strata-pg-"));
  const port = await freePort();
  const asUser = (command: string[]) =>
    asRoot ? ["runuser", "-u", "postgres", "--", ...command] : command;
  if (asRoot) spawnSync("chown", ["-R", "postgres", dir]);
  const data = path.join(dir, "data");
  const run = (command: string[]) => {
    const result = spawnSync(command[0], command.slice(1), { encoding: "utf8" });
    if (result.status !== 0) {
      throw new Error(`${command.join(" ")} failed: ${result.stderr || result.stdout}`);
    }
  };
  run(asUser([initdb, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]));
  run(asUser([
    pgCtl,
    "-D",
    data,
    "-l",
    path.join(dir, "log"),
    "-w",
    "-o",
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
    "start",
  ]));
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    origin: "throwaway",
    stop: () => {
      spawnSync(asUser([pgCtl, "-D", data, "-m", "immediate", "stop"])[0], [
        ...asUser([pgCtl, "-D", data, "-m", "immediate", "stop"]).slice(1),
      ]);
      fs.rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}

/** Find or start a server (see the module note). */
export async function findOrStartPg(): Promise<PgServer> {
  const fromEnv = process.env.STRATA_TEST_DATABASE_URL;
  if (fromEnv) {
    if (await pgAnswers(fromEnv)) return { url: fromEnv, origin: "env", stop: async () => {} };
    throw new Error("STRATA_TEST_DATABASE_URL is set but its server does not answer");
  }
  const local = "postgres://postgres@127.0.0.1:5432/postgres";
  if (await pgAnswers(local)) return { url: local, origin: "local", stop: async () => {} };
  return await startThrowawayCluster();
}
