-- revision: c296bcae8465
-- down_revision: 8586176fe179
-- message: Add labels to flows, deployments, flow runs and task runs

-- Labels: a JSON object of key/value pairs, free-form. Nullable without a default, so
-- SQLite's ALTER TABLE adds each column in place (no rebuild).

-- migrate:up
ALTER TABLE flow ADD COLUMN labels JSON;
ALTER TABLE deployment ADD COLUMN labels JSON;
ALTER TABLE flow_run ADD COLUMN labels JSON;
ALTER TABLE task_run ADD COLUMN labels JSON;

-- migrate:down
ALTER TABLE task_run DROP COLUMN labels;
ALTER TABLE flow_run DROP COLUMN labels;
ALTER TABLE deployment DROP COLUMN labels;
ALTER TABLE flow DROP COLUMN labels;
