import { deepStrictEqual, equal, match, notEqual, throws } from "node:assert/strict";
import {
  formatFilename,
  formatTimestamp,
  MAX_SLUG_LENGTH,
  newRevisionId,
  parseFilename,
  slugify,
} from "./filename.ts";

Deno.test("parseFilename: regular and irregular real-world names", () => {
  const cases: [string, { revision: string | null; slug: string; timestamp: string } | null][] = [
    ["2026_11_21_143005_5952a5498b51_add_labels.ts", {
      revision: "5952a5498b51",
      slug: "add_labels",
      timestamp: "2026_11_21_143005",
    }],
    ["2021_01_20_122127_25f4b90a7a42_initial_migration.sql", {
      revision: "25f4b90a7a42",
      slug: "initial_migration",
      timestamp: "2021_01_20_122127",
    }],
    // Prefect: REV missing, an ID-looking suffix at the end of the slug instead.
    ["2025_06_12_144500_add_automation_tags_aa1234567890.sql", {
      revision: null,
      slug: "add_automation_tags_aa1234567890",
      timestamp: "2025_06_12_144500",
    }],
    ["2026_02_19_200000_add_scheduler_schedule_id_index.ts", {
      revision: null,
      slug: "add_scheduler_schedule_id_index",
      timestamp: "2026_02_19_200000",
    }],
    // A REV that is not the declared one still parses; the loader warns.
    ["2022_06_04_133535_d60c18774a5d_add_indexes_for_partial_name_matches.ts", {
      revision: "d60c18774a5d",
      slug: "add_indexes_for_partial_name_matches",
      timestamp: "2022_06_04_133535",
    }],
    ["2026_11_21_143005_5952a5498b51.sql", {
      revision: "5952a5498b51",
      slug: "",
      timestamp: "2026_11_21_143005",
    }],
    // Words made of a-f letters stay in the slug.
    ["2026_11_21_143005_facade_cleanup.sql", {
      revision: null,
      slug: "facade_cleanup",
      timestamp: "2026_11_21_143005",
    }],
    // Not migrations.
    ["README.md", null],
    ["env.py", null],
    ["helpers.ts", null],
    ["2026_11_21_143005_5952a5498b51_add_labels.py", null],
    ["types.d.ts", null],
    ["migration_test.ts", null],
  ];
  for (const [name, expected] of cases) {
    const parsed = parseFilename(name);
    if (expected === null) {
      equal(parsed, null, name);
      continue;
    }
    notEqual(parsed, null, name);
    deepStrictEqual(
      { revision: parsed!.revision, slug: parsed!.slug, timestamp: parsed!.timestamp },
      expected,
      name,
    );
  }
});

Deno.test("parseFilename: timestamp-like names that do not parse name the file", () => {
  for (
    const name of [
      "2026_11_21_1430_5952a5498b51_short_time.sql",
      "2026-11-21_143005_5952a5498b51_dashes.sql",
      "2026_13_21_143005_5952a5498b51_bad_month.sql",
      "2026_02_30_143005_5952a5498b51_bad_day.ts",
      "2026_11_21_246005_5952a5498b51_bad_hour.ts",
      "20261121143005_compact.sql",
      "2026_11_21_143005_bad.name.sql",
    ]
  ) {
    throws(() => parseFilename(name), (error: Error) => {
      equal(error.name, "SyntaxError", name);
      match(
        error.message,
        new RegExp(`^Cannot parse migration filename '${name.replace(/\./g, "\\.")}'`),
      );
      return true;
    });
  }
});

Deno.test("parseFilename: date is UTC", () => {
  const parsed = parseFilename("2026_11_21_143005_5952a5498b51_x.sql")!;
  equal(parsed.date.toISOString(), "2026-11-21T14:30:05.000Z");
  equal(parsed.ext, "sql");
});

Deno.test("formatTimestamp and formatFilename round-trip through parseFilename", () => {
  const date = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
  equal(formatTimestamp(date), "2026_01_02_030405");
  const name = formatFilename({
    date,
    revision: "0123456789ab",
    message: "Add Flow Labels",
    ext: "ts",
  });
  equal(name, "2026_01_02_030405_0123456789ab_add_flow_labels.ts");
  const parsed = parseFilename(name)!;
  deepStrictEqual([parsed.revision, parsed.slug, parsed.date.getTime()], [
    "0123456789ab",
    "add_flow_labels",
    date.getTime(),
  ]);
  equal(
    formatFilename({ date, revision: "0123456789ab", message: "!!!", ext: "sql" }),
    "2026_01_02_030405_0123456789ab.sql",
  );
});

Deno.test("slugify: lower snake case, ASCII, at most 40 characters at a word boundary", () => {
  const cases: [string, string][] = [
    ["Add labels column", "add_labels_column"],
    ["Add `labels` column to flow and deployment", "add_labels_column_to_flow_and_deployment"],
    ["  --Weird   spacing--  ", "weird_spacing"],
    ["Café crème", "cafe_creme"],
    ["CamelCase Words", "camelcase_words"],
    ["", ""],
    [
      "Add indexes for partial name matches on flow runs and task runs",
      "add_indexes_for_partial_name_matches_on",
    ],
    ["a".repeat(60), "a".repeat(40)],
  ];
  for (const [message, slug] of cases) {
    equal(slugify(message), slug, message);
    equal(slugify(message).length <= MAX_SLUG_LENGTH, true);
  }
});

Deno.test("newRevisionId: 12 lowercase hex, never colliding", () => {
  for (let i = 0; i < 100; i++) match(newRevisionId(new Set()), /^[0-9a-f]{12}$/);
  // A random source that first repeats an existing ID must move on to a fresh one.
  const sequence = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...Array(12).fill(0.5)];
  let i = 0;
  const id = newRevisionId(new Set(["000000000000"]), () => sequence[i++ % sequence.length]);
  equal(id, "888888888888");
  throws(
    () => newRevisionId(new Set(["000000000000"]), () => 0),
    /^Error: Cannot generate a revision ID/,
  );
});
