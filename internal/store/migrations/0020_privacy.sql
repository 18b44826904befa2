-- Personal-data rights (docs/privacy.md): a participant can be erased (the
-- row stays as a tombstone the ledger and rewards keep referencing, every
-- personal field blanked or pseudonymised) and can opt out of the sale or
-- sharing of their data (CCPA "do not sell or share"), which suppresses the
-- CRM sync and the marketing webhooks about them.
ALTER TABLE participants ADD COLUMN do_not_sell BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE participants ADD COLUMN erased_at BIGINT;

-- Fraud evidence kept after an erasure: keyed hashes (HMAC-SHA-256 with the
-- installation secret) of the erased person's email, IPs, devices, payment
-- fingerprints, addresses and user agents, so abuse by the same person can
-- still be recognised, deleted when expires_at passes (the privacy.retention
-- job). The hash cannot be reversed without the secret and a guess.
CREATE TABLE erased_evidence (
    id             TEXT PRIMARY KEY,
    program_id     TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    kind           TEXT NOT NULL,
    value_hash     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX erased_evidence_lookup ON erased_evidence (program_id, kind, value_hash);
CREATE INDEX erased_evidence_expiry ON erased_evidence (expires_at);

-- Retention sweeps scan by time.
CREATE INDEX email_messages_created ON email_messages (created_at);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);
CREATE INDEX clicks_created ON clicks (created_at);
