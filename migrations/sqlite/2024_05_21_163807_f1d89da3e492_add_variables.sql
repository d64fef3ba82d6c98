-- revision: f1d89da3e492
-- down_revision: 6caf133f8384
-- message: Add variables

-- Variables: named values for flows to read. `value` starts as text up to 5,000 characters
-- and becomes JSON in `variable_value_json`.

-- migrate:up
CREATE TABLE variable (
    id CHAR(36) NOT NULL PRIMARY KEY DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', abs(random()) % 4 + 1, 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
    created DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    name VARCHAR NOT NULL,
    value VARCHAR(5000),
    tags JSON NOT NULL DEFAULT '[]',
    CONSTRAINT uq_variable__name UNIQUE (name)
);

-- migrate:down
DROP TABLE variable;
