-- revision: dc0165b0292b
-- down_revision: 8b029591968b
-- message: Add name search indexes

-- Case-insensitive name search (`name LIKE 'etl%'`, `name = ? COLLATE NOCASE`).
-- SQLite's LIKE is case-insensitive for ASCII and can use an index whose collation is
-- NOCASE, so each index is on `name COLLATE NOCASE`. PostgreSQL's side of this change uses
-- trigram GIN indexes instead (pg_trgm), which also serve `%infix%` searches.

-- migrate:up
CREATE INDEX ix_flow__name_nocase ON flow (name COLLATE NOCASE);
CREATE INDEX ix_deployment__name_nocase ON deployment (name COLLATE NOCASE);
CREATE INDEX ix_flow_run__name_nocase ON flow_run (name COLLATE NOCASE);
CREATE INDEX ix_block_document__name_nocase ON block_document (name COLLATE NOCASE);

-- migrate:down
DROP INDEX ix_block_document__name_nocase;
DROP INDEX ix_flow_run__name_nocase;
DROP INDEX ix_deployment__name_nocase;
DROP INDEX ix_flow__name_nocase;
