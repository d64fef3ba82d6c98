import assert from "node:assert/strict";
import { parseDatabaseUrl, redactUrl, rememberSecret, UrlError } from "./url.ts";
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

Deno.test("parseDatabaseUrl: a key=value connection string is an error that never echoes it", () => {
  for (
    const text of [
      "host=db user=app password=hunter22 dbname=app",
      "Server=db;Database=app;Password=hunter22;",
      "password=hunter22",
      "Data Source=db;Pwd=hunter22",
    ]
  ) {
    assert.throws(
      () => parseDatabaseUrl(text),
      (error: unknown) =>
        error instanceof UrlError && /not a URL but a key=value connection string/.test(
          error.message,
        ) && !/hunter22|=db|=app/.test(error.message),
      text,
    );
  }
  assert.throws(() => parseDatabaseUrl("host=db password=x"), /\(starting 'host=\.\.\.'\)/);
});

Deno.test("parseDatabaseUrl: a PostgreSQL URL the driver cannot parse is a UrlError", () => {
  for (
    const url of [
      "postgresql://u:hunter22@127.0.0.1:99999/db",
      "postgresql://u:hun#ter22@h/db",
      "postgresql://u:hun?ter22@h/db",
      "postgresql://u:hun/ter22@h/db",
      "postgresql://u:hunter22@/db?host=/var/run/postgresql",
    ]
  ) {
    assert.throws(
      () => parseDatabaseUrl(url),
      (error: unknown) =>
        error instanceof UrlError && /does not parse as a URL/.test(error.message) &&
        error.message.includes("postgresql://u:***@") && !/hun|ter22/.test(error.message),
      url,
    );
  }
  // What the driver accepts: several hosts, an empty host, a percent-encoded password.
  for (
    const url of [
      "postgresql://h1:5432,h2:5433/db",
      "postgresql:///db?host=/var/run/postgresql",
      "postgres://u:p%23ss@h/db",
      "postgresql://u:p@ss@h/db",
      "postgresql://[::1]:5432/db",
    ]
  ) {
    assert.deepEqual(parseDatabaseUrl(url), { dialect: "postgresql", url }, url);
  }
});

Deno.test("redactUrl hides password= values of connection strings", () => {
  const cases: [string, string][] = [
    [
      "host=db user=app password=hunter22 dbname=app",
      "host=db user=app password=*** dbname=app",
    ],
    ["host=db PASSWORD = 'hun ter\\'22' port=5", "host=db PASSWORD = *** port=5"],
    ["Server=x;Password=hunter22;Database=y", "Server=x;Password=***;Database=y"],
    ['Server=x;Password="a;b""c";Database=y', "Server=x;Password=***;Database=y"],
    ["Server=x;Pwd=hunter22;Uid=u", "Server=x;Pwd=***;Uid=u"],
    ["x sslpassword=abc y", "x sslpassword=*** y"],
    ["password='never closed", "password=***"],
    // A URL already redacted keeps the colon that follows it.
    [
      "Cannot connect to postgresql://h/db?password=***: connect ECONNREFUSED",
      "Cannot connect to postgresql://h/db?password=***: connect ECONNREFUSED",
    ],
  ];
  for (const [input, expected] of cases) assert.equal(redactUrl(input), expected, input);
  // Redacting twice gives the same text.
  const once = redactUrl("Cannot connect to postgresql://h/db?password=hunter22: refused");
  assert.equal(redactUrl(once), once);
  assert.ok(!once.includes("hunter22"));
  // SQL is printed as written: only a URL's query password is masked there.
  assert.equal(
    redactUrl("UPDATE account SET password = NULL WHERE password='x';", { keywords: false }),
    "UPDATE account SET password = NULL WHERE password='x';",
  );
  assert.equal(
    redactUrl("-- postgres://h/db?password=x&a=b", { keywords: false }),
    "-- postgres://h/db?password=***&a=b",
  );
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

Deno.test("a remembered password is masked where it stands as a word, not inside others", () => {
  rememberSecret("postgresql://app:postgres@db/app");
  assert.equal(
    redactUrl('{"dialect": "postgresql", "echo": "bad postgres here"}'),
    '{"dialect": "postgresql", "echo": "bad *** here"}',
  );
});

Deno.test("a URL without its // keeps its password hidden too", () => {
  assert.equal(redactUrl("bad URL u:Zq7pw0rdX@h/db"), "bad URL u:***@h/db");
  assert.equal(redactUrl("postgresql:/u:Zq7pw0rdX@h/db"), "postgresql:/u:***@h/db");
  assert.equal(redactUrl("postgresql://u:***@h/db"), "postgresql://u:***@h/db");
  assert.equal(redactUrl("see strata@example.org at 12:30"), "see strata@example.org at 12:30");
});
