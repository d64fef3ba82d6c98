/**
 * Adopting Alembic databases: Alembic migrates a chain half way, strata finishes it, and
 * Alembic's `current` agrees; and the other way round. Both dialects.
 */

import assert from "node:assert/strict";
import * as path from "node:path";
import { downgrade, upgrade } from "../lib/migrate.ts";
import { alembicTest, runAlembic, writeAlembicProject } from "./support/alembic.ts";
import { createTestDatabase, POSTGRES } from "./support/pg.ts";
import { sqlMigration } from "./support/databases.ts";
import { withTempDir, writeFiles } from "./support/tmp.ts";

const IDS = ["1a2b3c4d5e01", "1a2b3c4d5e02", "1a2b3c4d5e03", "1a2b3c4d5e04"];

function statements(i: number) {
  return {
    up: [`CREATE TABLE shared_${i} (id INTEGER PRIMARY KEY, name VARCHAR(40))`],
    down: [`DROP TABLE shared_${i}`],
  };
}

async function handOver(url: string, dialect: "sqlite" | "postgresql", dir: string) {
  writeAlembicProject(
    path.join(dir, "alembic-project"),
    url,
    IDS.map((id, i) => ({
      revision: id,
      downRevision: i === 0 ? null : IDS[i - 1],
      ...statements(i),
    })),
  );
  const files: Record<string, string> = {};
  IDS.forEach((id, i) => {
    const { up, down } = statements(i);
    files[`2026_02_0${i + 1}_000000_${id}_shared_${i}.sql`] = sqlMigration(
      id,
      i === 0 ? null : IDS[i - 1],
      `${up[0]};`,
      `${down[0]};`,
    );
  });
  writeFiles(path.join(dir, "migrations", dialect), files);
  const project = path.join(dir, "alembic-project");
  const options = { url, dir: path.join(dir, "migrations") };

  const half = await runAlembic(project, ["upgrade", IDS[1]]);
  assert.equal(half.code, 0, half.stderr);
  const finished = await upgrade("head", options);
  assert.deepEqual(finished.before, [IDS[1]]);
  assert.deepEqual(finished.steps.map((s) => s.revision), [IDS[2], IDS[3]]);
  const agreed = await runAlembic(project, ["current"]);
  assert.equal(agreed.code, 0, agreed.stderr);
  assert.match(agreed.stdout, new RegExp(`^${IDS[3]} \\(head\\)`, "m"));

  // The other way round: strata goes down, Alembic continues from there.
  await downgrade("-2", options);
  const resumed = await runAlembic(project, ["upgrade", "head"]);
  assert.equal(resumed.code, 0, resumed.stderr);
  const back = await runAlembic(project, ["current"]);
  assert.match(back.stdout, new RegExp(`^${IDS[3]} \\(head\\)`, "m"));
}

alembicTest(
  "sqlite: strata continues an Alembic database and the other way round",
  () => withTempDir((dir) => handOver(`sqlite:${path.join(dir, "shared.db")}`, "sqlite", dir)),
);

alembicTest(
  "postgresql: strata continues an Alembic database and the other way round",
  async () => {
    const database = await createTestDatabase();
    try {
      await withTempDir((dir) => handOver(database.url, "postgresql", dir));
    } finally {
      await database.drop();
    }
  },
  [POSTGRES],
);
