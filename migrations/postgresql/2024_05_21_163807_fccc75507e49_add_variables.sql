-- revision: fccc75507e49
-- down_revision: bcd8917702ed
-- message: Add variables

-- Variables: named values for flows to read. `value` starts as text up to 5,000 characters
-- and becomes JSONB in `variable_value_json`.

-- migrate:up
CREATE TABLE variable (
    id UUID NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),
    created TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP,
    name VARCHAR NOT NULL,
    value VARCHAR(5000),
    tags JSONB NOT NULL DEFAULT '[]',
    CONSTRAINT uq_variable__name UNIQUE (name)
);

-- migrate:down
DROP TABLE variable;
