-- revision: 9fdc9376c102
-- down_revision: 04892306113c
-- message: Add labels to flows, deployments, flow runs and task runs

-- Labels: a JSONB object of key/value pairs, free-form. Nullable without a default, so
-- adding the columns rewrites nothing. Their GIN indexes come later, built concurrently.

-- migrate:up
ALTER TABLE flow ADD COLUMN labels JSONB;
ALTER TABLE deployment ADD COLUMN labels JSONB;
ALTER TABLE flow_run ADD COLUMN labels JSONB;
ALTER TABLE task_run ADD COLUMN labels JSONB;

-- migrate:down
ALTER TABLE task_run DROP COLUMN labels;
ALTER TABLE flow_run DROP COLUMN labels;
ALTER TABLE deployment DROP COLUMN labels;
ALTER TABLE flow DROP COLUMN labels;
