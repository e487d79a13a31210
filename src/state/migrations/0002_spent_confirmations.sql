-- 2026-07-28 confirmation states already accepted (their one-time nonces), so a state accepted by
-- one replica is refused by every other. A row matters until the state would have expired anyway.
CREATE TABLE solvapay_spent_confirmations (
    nonce text PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
CREATE INDEX solvapay_spent_confirmations_expiry ON solvapay_spent_confirmations (expires_at);
