/**
 * The Prefect corpus: the facts of a real pair of chains (116 PostgreSQL and 112 SQLite
 * migrations) and their MIGRATION-NOTES.md, with the real defects.
 *
 * Both chains are rebuilt as strata `.sql` files in memory (real filenames, irregular ones
 * included) and loaded through `loadChain`; the notes file is rebuilt from its entries. What
 * the test expects is computed from the JSON facts directly, not through strata.
 *
 * The facts live outside the repository: `../shared/corpus/prefect-graph.json` relative to the
 * repository root.
 */

import { deepStrictEqual, equal, notDeepStrictEqual, ok } from "node:assert/strict";
import { RevisionGraph } from "../lib/revision/graph.ts";
import { formatNotes, parseNotes, verifyNotes } from "../lib/revision/notes.ts";
import { loadChain, type ScriptSource } from "../lib/revision/script.ts";
import type { DialectName } from "../lib/revision/revision.ts";
import { planUpgrade } from "../lib/runner/plan.ts";

interface Fact {
  file: string;
  timestamp: string;
  revision: string;
  down_revision: string | string[] | null;
  branch_labels: string[] | null;
  depends_on: string[] | null;
  slug: string;
  filename_has_rev: boolean;
  filename_rev: string | null;
}

interface Corpus {
  dialects: Record<DialectName, Fact[]>;
  notes: { sqlite: string | null; postgres: string | null }[];
}

const CORPUS_URL = new URL("../../shared/corpus/prefect-graph.json", import.meta.url);

async function readCorpus(): Promise<Corpus> {
  try {
    return JSON.parse(await Deno.readTextFile(CORPUS_URL));
  } catch (error) {
    throw new Error(
      `Cannot read the corpus ${CORPUS_URL.pathname}: ${
        (error as Error).message
      }; it is expected at ../shared/corpus/prefect-graph.json relative to the repository root`,
    );
  }
}

const ids = (value: string | string[] | null) =>
  value === null ? [] : Array.isArray(value) ? value : [value];

function sqlFor(fact: Fact): string {
  return [
    `-- revision: ${fact.revision}`,
    `-- down_revision: ${ids(fact.down_revision).join(", ") || "none"}`,
    ...(fact.branch_labels?.length ? [`-- branch_labels: ${fact.branch_labels.join(", ")}`] : []),
    ...(fact.depends_on?.length ? [`-- depends_on: ${fact.depends_on.join(", ")}`] : []),
    `-- message: ${fact.slug.replace(/_/g, " ")}`,
    "",
    "-- migrate:up",
    "SELECT 1;",
    "",
    "-- migrate:down",
    "SELECT 1;",
    "",
  ].join("\n");
}

function memorySource(corpus: Corpus): ScriptSource {
  const files = new Map<string, string>();
  for (const dialect of ["sqlite", "postgresql"] as const) {
    for (const fact of corpus.dialects[dialect]) {
      files.set(`migrations/${dialect}/${fact.file}.sql`, sqlFor(fact));
    }
  }
  return {
    listDir: (dir) =>
      Promise.resolve(
        [...files.keys()].filter((p) => p.startsWith(`${dir}/`)).map((p) =>
          p.slice(dir.length + 1)
        ),
      ),
    readText: (path) => Promise.resolve(files.get(path)!),
    importModule: () => Promise.reject(new Error("the corpus has no TypeScript migrations")),
  };
}

/** Apply order computed from the facts alone: parents before children (the chains are linear). */
function factOrder(facts: Fact[]): string[] {
  const parents = new Set(facts.flatMap((f) => ids(f.down_revision)));
  const heads = facts.filter((f) => !parents.has(f.revision));
  equal(heads.length, 1, "the facts describe one head per chain");
  const byId = new Map(facts.map((f) => [f.revision, f]));
  const order: string[] = [];
  for (let at: Fact | undefined = heads[0]; at; at = byId.get(ids(at.down_revision)[0] ?? "")) {
    order.push(at.revision);
  }
  return order.reverse();
}

const corpus: Corpus | Error = await readCorpus().catch((error) => error as Error);

async function loadBoth(c: Corpus) {
  const source = memorySource(c);
  const sqlite = await loadChain(source, "migrations/sqlite");
  const postgresql = await loadChain(source, "migrations/postgresql");
  return {
    sqlite: { ...sqlite, graph: new RevisionGraph(sqlite.revisions) },
    postgresql: { ...postgresql, graph: new RevisionGraph(postgresql.revisions) },
  };
}

Deno.test("corpus: both chains load with one head and apply in graph order", async () => {
  if (corpus instanceof Error) throw corpus;
  const chains = await loadBoth(corpus);
  for (const dialect of ["sqlite", "postgresql"] as const) {
    const facts: Fact[] = corpus.dialects[dialect];
    const { graph, revisions } = chains[dialect];
    equal(revisions.length, facts.length, `${dialect}: every file loads`);
    equal(graph.heads.length, 1, `${dialect}: one head`);
    const expected = factOrder(facts);
    equal(graph.heads[0], expected[expected.length - 1]);
    const applied = planUpgrade(graph, [], "head").map((s) => s.revision.revision);
    deepStrictEqual(applied, expected, `${dialect}: apply order comes from the graph`);
    // The point of the above: file name order is not apply order in this corpus.
    const byName = [...facts].sort((a, b) => a.file < b.file ? -1 : 1).map((f) => f.revision);
    notDeepStrictEqual(byName, expected, `${dialect}: some children sort before their parents`);
    const byId = new Map(facts.map((f) => [f.revision, f]));
    ok(
      facts.some((f) => ids(f.down_revision).some((p) => byId.get(p)!.timestamp > f.timestamp)),
      `${dialect}: some child is older than its parent`,
    );
  }
});

Deno.test("corpus: irregular filenames load with warnings", async () => {
  if (corpus instanceof Error) throw corpus;
  const chains = await loadBoth(corpus);
  for (const dialect of ["sqlite", "postgresql"] as const) {
    const expected = corpus.dialects[dialect]
      .filter((f) => !f.filename_has_rev)
      .map((f) => [
        `migrations/${dialect}/${f.file}.sql`,
        f.revision,
        f.filename_rev === null ? "filename-without-revision" : "filename-revision-mismatch",
      ])
      .sort();
    ok(expected.length > 0, `${dialect}: the corpus has irregular names`);
    const warnings = chains[dialect].warnings.map((w) => [w.file, w.revision, w.kind]).sort();
    deepStrictEqual(warnings, expected, dialect);
  }
});

Deno.test("corpus: notes verification reports exactly the corpus's defects", async () => {
  if (corpus instanceof Error) throw corpus;
  const chains = await loadBoth(corpus);
  // Rebuild the notes file, alternating canonical and hand-edited forms.
  const text = [
    "# Migration notes",
    "",
    "Each schema change, newest first, with its revision in each dialect.",
    "",
    ...corpus.notes.flatMap((n, i) =>
      i % 2 === 0
        ? [
          `# Change ${i}`,
          `SQLite: ${n.sqlite ? `\`${n.sqlite}\`` : "None"}`,
          `Postgres: ${n.postgres ? `\`${n.postgres}\`` : "None"}`,
          "",
        ]
        : [
          `## Change ${i}`,
          `SQLite:${n.sqlite ?? "None"}`,
          `PostgreSQL: ${n.postgres ?? "None"}`,
          "Some prose.",
          "",
        ]
    ),
  ].join("\n");
  const doc = parseNotes(text);
  equal(doc.entries.length, corpus.notes.length);
  equal(formatNotes(parseNotes(formatNotes(doc))), formatNotes(doc));
  const findings = verifyNotes(doc, {
    sqlite: chains.sqlite.graph,
    postgresql: chains.postgresql.graph,
  });

  // Expected defects, from the facts alone.
  const expected: string[] = [];
  const inChain = {
    sqlite: new Set(corpus.dialects.sqlite.map((f) => f.revision)),
    postgresql: new Set(corpus.dialects.postgresql.map((f) => f.revision)),
  };
  for (const [dialect, key] of [["sqlite", "sqlite"], ["postgresql", "postgres"]] as const) {
    const named = corpus.notes.map((n) => n[key]).filter((id): id is string => id !== null);
    for (const f of corpus.dialects[dialect]) {
      if (!named.includes(f.revision)) {
        expected.push(`error unnamed-revision ${dialect} ${f.revision}`);
      }
    }
    const seen = new Set<string>();
    for (const id of named) {
      if (seen.has(id)) expected.push(`error duplicate-id ${dialect} ${id}`);
      seen.add(id);
      if (!inChain[dialect].has(id)) expected.push(`error unknown-revision ${dialect} ${id}`);
    }
    // Out of order: consecutive named revisions whose chain positions increase down the file.
    const position = new Map(factOrder(corpus.dialects[dialect]).map((id, i) => [id, i]));
    const firsts = named.filter((id, i) => named.indexOf(id) === i && position.has(id));
    for (let i = 1; i < firsts.length; i++) {
      if (position.get(firsts[i])! > position.get(firsts[i - 1])!) {
        expected.push(`error out-of-order ${dialect} ${firsts[i]}`);
      }
    }
  }
  const timestamps = {
    sqlite: new Map(corpus.dialects.sqlite.map((f) => [f.revision, f.timestamp])),
    postgresql: new Map(corpus.dialects.postgresql.map((f) => [f.revision, f.timestamp])),
  };
  for (const n of corpus.notes) {
    const s = n.sqlite && timestamps.sqlite.get(n.sqlite);
    const p = n.postgres && timestamps.postgresql.get(n.postgres);
    if (s && p && s !== p) expected.push("warning timestamp-mismatch - -");
  }

  const actual = findings.map((f) =>
    `${f.severity} ${f.kind} ${f.dialect ?? "-"} ${f.revision ?? "-"}`
  );
  deepStrictEqual(actual.sort(), expected.sort());
  // The corpus's known defects are among them, with the wording a user needs.
  const foreign = findings.find((f) => f.kind === "unknown-revision");
  ok(foreign && /it is a revision of the SQLite chain/.test(foreign.message), foreign?.message);
  ok(findings.some((f) => f.kind === "duplicate-id"));
  ok(findings.filter((f) => f.kind === "unnamed-revision").length > 0);
});
