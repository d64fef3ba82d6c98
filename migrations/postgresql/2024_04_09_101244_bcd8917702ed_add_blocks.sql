-- revision: bcd8917702ed
-- down_revision: 3e7f07f3242b
-- message: Add block types, schemas and documents

-- Blocks: typed, schema-validated configuration documents. Plain DDL, so plain SQL.

-- migrate:up
CREATE TABLE block_type (
    id UUID NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),
    created TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP,
    name VARCHAR NOT NULL,
    slug VARCHAR NOT NULL,
    logo_url VARCHAR,
    documentation_url VARCHAR,
    description TEXT,
    code_example TEXT,
    is_protected BOOLEAN NOT NULL DEFAULT FALSE,
    CONSTRAINT uq_block_type__slug UNIQUE (slug)
);

CREATE TABLE block_schema (
    id UUID NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),
    created TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP,
    checksum VARCHAR NOT NULL,
    fields JSONB NOT NULL DEFAULT '{}',
    capabilities JSONB NOT NULL DEFAULT '[]',
    version VARCHAR NOT NULL DEFAULT 'non-versioned',
    block_type_id UUID NOT NULL
        CONSTRAINT fk_block_schema__block_type_id__block_type
        REFERENCES block_type (id) ON DELETE CASCADE,
    CONSTRAINT uq_block_schema__checksum_version UNIQUE (checksum, version)
);
CREATE INDEX ix_block_schema__block_type_id ON block_schema (block_type_id);

CREATE TABLE block_document (
    id UUID NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),
    created TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP,
    name VARCHAR NOT NULL,
    data JSONB NOT NULL DEFAULT '{}',
    is_anonymous BOOLEAN NOT NULL DEFAULT FALSE,
    block_type_id UUID NOT NULL
        CONSTRAINT fk_block_document__block_type_id__block_type
        REFERENCES block_type (id) ON DELETE CASCADE,
    block_schema_id UUID NOT NULL
        CONSTRAINT fk_block_document__block_schema_id__block_schema
        REFERENCES block_schema (id) ON DELETE CASCADE,
    CONSTRAINT uq_block_document__block_type_id_name UNIQUE (block_type_id, name)
);
CREATE INDEX ix_block_document__block_schema_id ON block_document (block_schema_id);
CREATE INDEX ix_block_document__is_anonymous ON block_document (is_anonymous);

-- migrate:down
DROP TABLE block_document;
DROP TABLE block_schema;
DROP TABLE block_type;
