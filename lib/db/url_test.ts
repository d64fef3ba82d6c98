import assert from "node:assert/strict";
import { parseDatabaseUrl, redactUrl, UrlError } from "./url.ts";
import { toSqliteParams } from "./sqlite.ts";

Deno.test("parseDatabaseUrl: every accepted form", () => {
  const cases: [string, ReturnType<typeof parseDatabaseUrl>][] = [
    ["sqlite:./strata.db", { dialect: "sqlite", path: "./strata.db", memory: false }],
    ["sqlite:data/app.db", { dialect: "sqlite", path: "data/app.db", memory: false }],
    ["sqlite:///abs/path.db", { dialect: "sqlite", path: "/abs/path.db", memory: false }],
    ["sqlite::memory:", { dialect: "sqlite", path: ":memory:", memory: true }],
    ["app.sqlite", { dialect: "sqlite", path: "app.sqlite", memory: false }],
    ["/var/lib/x.db", { dialect: "sqlite", path: "/var/lib/x.db", memory: false }],
    ["postgres://u:p@h/db", { dialect: "postgresql", url: "postgres://u:p@h/db" }],
    ["postgresql://h:5433/db?sslmode=disable", {
      dialect: "postgresql",
      url: "postgresql://h:5433/db?sslmode=disable",
    }],
  ];
  for (const [url, expected] of cases) assert.deepEqual(parseDatabaseUrl(url), expected, url);
});

Deno.test("parseDatabaseUrl: unsupported schemes are errors that hide the password", () => {
  assert.throws(
    () => parseDatabaseUrl("mysql://root:hunter2@db/app"),
    (error: unknown) =>
      error instanceof UrlError && /unsupported scheme 'mysql'/.test(error.message) &&
      !error.message.includes("hunter2"),
  );
  assert.throws(() => parseDatabaseUrl("not a url"), UrlError);
  assert.throws(() => parseDatabaseUrl("sqlite:"), UrlError);
  // A URI filename would put the lockfile beside a file literally named `file:...`.
  assert.throws(() => parseDatabaseUrl("sqlite:file:app.db?mode=rwc"), /URI filenames/);
});

Deno.test("redactUrl hides passwords wherever they appear in a text", () => {
  const cases: [string, string][] = [
    ["postgres://user:secret@host/db", "postgres://user:***@host/db"],
    ["postgresql://user:p%40ss@host:5432/db", "postgresql://user:***@host:5432/db"],
    ["postgres://user@host/db", "postgres://user@host/db"],
    ["connect postgres://a:b@h/d failed", "connect postgres://a:***@h/d failed"],
    ["postgres://h/db?password=x&user=y", "postgres://h/db?password=***&user=y"],
    ["sqlite:./strata.db", "sqlite:./strata.db"],
    // Passwords holding `@`, `/` or a blank: hidden up to the last `@`.
    ["postgresql://postgres:TOP@s3cret@127.0.0.1/db", "postgresql://postgres:***@127.0.0.1/db"],
    ["error: postgres://u:TOP/s3cret@h/d x", "error: postgres://u:***@h/d x"],
    ["postgres://u:TOP s3cret@h/d", "postgres://u:***@h/d"],
    [
      "mysql://root:pw@db/app: unsupported (use postgresql://user@host/db)",
      "mysql://root:***@db/app: unsupported (use postgresql://user@host/db)",
    ],
  ];
  for (const [input, expected] of cases) assert.equal(redactUrl(input), expected);
});

Deno.test("redactUrl masks a known password wherever it appears", () => {
  parseDatabaseUrl("postgresql://app:Sw0rdfish!@db.internal/prod");
  assert.equal(
    redactUrl("Invalid URL: 'Sw0rdfish!@db.internal' (from the driver)"),
    "Invalid URL: '***@db.internal' (from the driver)",
  );
});

Deno.test("toSqliteParams rewrites $n outside quoted text only", () => {
  assert.equal(toSqliteParams("SELECT $1, $2"), "SELECT ?, ?");
  assert.equal(toSqliteParams("SELECT $2, $1"), "SELECT ?2, ?1");
  assert.equal(toSqliteParams("SELECT $1, $1"), "SELECT ?1, ?1");
  assert.equal(toSqliteParams("SELECT '$1', \"$2\", $1"), "SELECT '$1', \"$2\", ?");
  assert.equal(toSqliteParams("SELECT 'it''s $1', $1, $3"), "SELECT 'it''s $1', ?1, ?3");
});
