-- revision: f4d1310d258b
-- down_revision: 506e73bd27d8
-- message: Add name search indexes

-- Name search (`name ILIKE '%etl%'`) through trigram GIN indexes. pg_trgm ships with
-- PostgreSQL and is a trusted extension since 13: a database owner may create it without
-- superuser rights. Downgrading drops the indexes but leaves the extension, which other
-- objects may have come to use. SQLite's side of this change uses NOCASE indexes instead.

-- migrate:up
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX ix_flow__name_trgm ON flow USING gin (name gin_trgm_ops);
CREATE INDEX ix_deployment__name_trgm ON deployment USING gin (name gin_trgm_ops);
CREATE INDEX ix_flow_run__name_trgm ON flow_run USING gin (name gin_trgm_ops);
CREATE INDEX ix_block_document__name_trgm ON block_document USING gin (name gin_trgm_ops);

-- migrate:down
DROP INDEX ix_block_document__name_trgm;
DROP INDEX ix_flow_run__name_trgm;
DROP INDEX ix_deployment__name_trgm;
DROP INDEX ix_flow__name_trgm;
