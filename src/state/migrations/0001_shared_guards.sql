-- The shared guards: intents of the refund and credit-grant journals, the deployment's totals
-- (caps), the audit log of write calls, and the Streamable HTTP sessions.

-- Every intent with its latest outcome (JSON as the journal writes it).
CREATE TABLE solvapay_intents (
    kind text NOT NULL,
    id text NOT NULL,
    key text NOT NULL,
    at timestamptz NOT NULL,
    intent jsonb NOT NULL,
    outcome jsonb NOT NULL,
    outcome_at timestamptz,
    PRIMARY KEY (kind, id)
);

-- The latest intent of each key: the row an admission locks (one per identical request).
CREATE TABLE solvapay_latest_intents (
    kind text NOT NULL,
    key text NOT NULL,
    id text NOT NULL,
    PRIMARY KEY (kind, key)
);

-- What the deployment has moved, per capped amount ("refund", "credit grant").
CREATE TABLE solvapay_totals (
    what text PRIMARY KEY,
    used bigint NOT NULL DEFAULT 0
);
INSERT INTO solvapay_totals (what) VALUES ('refund'), ('credit grant');

-- The write-ahead audit log: a row when a write call starts, completed when it finishes.
CREATE TABLE solvapay_audit (
    call_id text PRIMARY KEY,
    replica text NOT NULL,
    caller text,
    tool text NOT NULL,
    arguments text NOT NULL,
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    outcome text,
    code text,
    message text,
    refs text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX solvapay_audit_open ON solvapay_audit (started_at) WHERE finished_at IS NULL;

-- Streamable HTTP sessions (2025-11-25), so any replica can restore one.
CREATE TABLE solvapay_sessions (
    id text PRIMARY KEY,
    state jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
