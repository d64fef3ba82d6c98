import assert from "node:assert/strict";
import { identifierOf, joinTokens, mentionsIdentifier, splitTopLevel, tokenize } from "./lexer.ts";

const SAMPLES = [
  `CREATE TABLE "a""b" (x INTEGER DEFAULT 'it''s', [y z] TEXT, \`w\` -- note\n, c /* c, d */)`,
  "CREATE INDEX ix ON t (lower(name)) WHERE x > 1.5e3",
  "",
];

Deno.test("tokenize: joining the tokens gives back the text", () => {
  for (const sample of SAMPLES) {
    assert.equal(tokenize(sample).map((token) => token.text).join(""), sample);
  }
});

Deno.test("identifierOf: unquotes every quoting style", () => {
  const names = tokenize(SAMPLES[0]).map(identifierOf).filter((name) => name !== undefined);
  assert.deepEqual(names, [
    "CREATE",
    "TABLE",
    'a"b',
    "x",
    "INTEGER",
    "DEFAULT",
    "y z",
    "TEXT",
    "w",
    "c",
  ]);
});

Deno.test("mentionsIdentifier: names, not strings or comments", () => {
  const cases: [string, string, boolean][] = [
    ["SELECT * FROM flow", "FLOW", true],
    ['SELECT * FROM "flow"', "flow", true],
    ["SELECT 'flow' FROM x -- flow", "flow", false],
    ["SELECT * FROM flow_run", "flow", false],
  ];
  for (const [sql, name, expected] of cases) assert.equal(mentionsIdentifier(sql, name), expected);
});

Deno.test("splitTopLevel: commas inside parentheses stay", () => {
  const parts = splitTopLevel(tokenize("a NUMERIC(10, 2), CHECK (a IN (1, 2)), b"), ",");
  assert.deepEqual(parts.map(joinTokens), ["a NUMERIC(10, 2)", "CHECK (a IN (1, 2))", "b"]);
});

Deno.test("tokenize: PostgreSQL strings, dollar quotes and nested comments", () => {
  const cases: [string, boolean, [string, string][]][] = [
    ["E'it\\'s;'", false, [["string", "E'it\\'s;'"]]],
    ["e'a''b'", false, [["string", "e'a''b'"]]],
    ["NAME'x'", false, [["word", "NAME"], ["string", "'x'"]]],
    ["$$a;$b$$", false, [["string", "$$a;$b$$"]]],
    ["$fn$ $$ $fn$", false, [["string", "$fn$ $$ $fn$"]]],
    ["$1", false, [["punct", "$"], ["number", "1"]]],
    ["a$b$", false, [["word", "a$b$"]]],
    ["/* a /* b */ c */", true, [["comment", "/* a /* b */ c */"]]],
    ["/* a /* b */ c", false, [["comment", "/* a /* b */"], ["space", " "], ["word", "c"]]],
    ["'open", false, [["string", "'open"]]],
  ];
  for (const [sql, nestedComments, expected] of cases) {
    const tokens = tokenize(sql, { nestedComments }).map((t) => [t.kind, t.text]);
    assert.deepEqual(tokens, expected, sql);
  }
});
