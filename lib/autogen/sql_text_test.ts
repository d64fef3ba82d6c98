import assert from "node:assert/strict";
import { normaliseSql, reflectedDefault, stripOuterParens } from "./sql_text.ts";

Deno.test("normaliseSql: what databases add does not make a difference", () => {
  const same: [string, string][] = [
    ["('active'::character varying)", "'active'"],
    ["(attempts >= 0)", "attempts>=0"],
    ['"Name" IS NOT NULL', "name is not null"],
    ["'-1'::integer", "-1"],
    ["true", "TRUE"],
    ["'{}'::jsonb", "'{}'"],
    ["lower((name)::text)", "LOWER(name)"],
  ];
  for (const [a, b] of same) assert.equal(normaliseSql(a), normaliseSql(b), `${a} vs ${b}`);
  assert.notEqual(normaliseSql("a > 0"), normaliseSql("a > 1"));
});

Deno.test("stripOuterParens keeps parentheses that do not wrap everything", () => {
  assert.equal(stripOuterParens("((a > 0))"), "a > 0");
  assert.equal(stripOuterParens("(a) + (b)"), "(a) + (b)");
});

Deno.test("reflectedDefault: literals become values, the rest stays SQL", () => {
  assert.equal(reflectedDefault("'it''s'::text"), "it's");
  assert.equal(reflectedDefault("42"), 42);
  assert.equal(reflectedDefault("false"), false);
  assert.equal(reflectedDefault("NULL"), undefined);
  assert.equal(reflectedDefault(null), undefined);
  assert.deepEqual(reflectedDefault("(CURRENT_TIMESTAMP)"), { raw: "CURRENT_TIMESTAMP" });
  assert.equal(reflectedDefault("'active'::character varying"), "active");
  assert.equal(reflectedDefault("'{}'::text[]"), "{}");
  // A literal that only starts an expression is not the value.
  assert.deepEqual(
    reflectedDefault("('INV-'::text || nextval('inv_seq'::regclass)::text)"),
    { raw: "'INV-'::text || nextval('inv_seq'::regclass)::text" },
  );
  assert.deepEqual(reflectedDefault("('2020-01-01'::date + 30)"), {
    raw: "'2020-01-01'::date + 30",
  });
});
