/**
 * Identifier and literal quoting shared by both dialects (standard SQL double quotes).
 *
 * @module
 */

const PLAIN_IDENT = /^[a-z_][a-z0-9_]*$/;

/** Words that must be quoted when used as identifiers, in either dialect. */
const RESERVED = new Set(
  ("all analyse analyze and any array as asc asymmetric authorization between binary both case " +
    "cast check collate collation column concurrently constraint create cross current_catalog " +
    "current_date current_role current_schema " +
    "current_time current_timestamp current_user default deferrable delete desc distinct do drop " +
    "else end except exists false fetch for foreign freeze from full grant group having ilike in " +
    "index initially inner insert intersect into is isnull join key lateral leading left like " +
    "limit localtime localtimestamp natural not notnull null offset on only or order outer " +
    "overlaps placing primary references returning right select session_user similar some " +
    "symmetric system_user table tablesample then to trailing true union unique update user " +
    "using values " +
    "variadic verbose when where window with")
    .split(" "),
);

/** Quote an identifier when it is not a plain lower-case name or is a reserved word. */
export function quoteIdent(name: string): string {
  if (PLAIN_IDENT.test(name) && !RESERVED.has(name)) return name;
  return `"${name.replaceAll('"', '""')}"`;
}

/** A single-quoted string literal. */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
