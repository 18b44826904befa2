-- Fraud detection: raw click data kept for the checks (purged after the
-- retention period), risk decisions on referrals, a per-program policy,
-- the facts seen per participant, and the review log.

ALTER TABLE clicks ADD COLUMN ip TEXT NOT NULL DEFAULT '';
ALTER TABLE clicks ADD COLUMN params TEXT NOT NULL DEFAULT '';
CREATE INDEX clicks_participant_ip ON clicks (participant_id, ip);

ALTER TABLE referrals ADD COLUMN risk_score INTEGER NOT NULL DEFAULT 0;
ALTER TABLE referrals ADD COLUMN risk_action TEXT NOT NULL DEFAULT 'approve';
ALTER TABLE referrals ADD COLUMN risk_signals TEXT NOT NULL DEFAULT '[]';
-- none: nothing to review; flagged / held: waiting for a reviewer (their
-- rewards are not approved meanwhile); cleared / rejected: decided.
ALTER TABLE referrals ADD COLUMN review_status TEXT NOT NULL DEFAULT 'none';
ALTER TABLE referrals ADD COLUMN review_deadline BIGINT;
CREATE INDEX referrals_review ON referrals (program_id, review_status, id);

ALTER TABLE programs ADD COLUMN fraud_policy TEXT NOT NULL DEFAULT '';

-- Facts seen for a participant (kind: ip, device, payment, address, ua).
CREATE TABLE participant_traits (
    participant_id TEXT NOT NULL REFERENCES participants (id),
    program_id     TEXT NOT NULL,
    kind           TEXT NOT NULL,
    value          TEXT NOT NULL,
    first_seen     BIGINT NOT NULL,
    last_seen      BIGINT NOT NULL,
    PRIMARY KEY (participant_id, kind, value)
);
CREATE INDEX participant_traits_value ON participant_traits (program_id, kind, value);

-- Every automatic and manual fraud decision, with the signals behind it,
-- for the audit trail and the per-signal noise statistics.
CREATE TABLE fraud_reviews (
    id          TEXT PRIMARY KEY,
    program_id  TEXT NOT NULL,
    referral_id TEXT NOT NULL REFERENCES referrals (id),
    decision    TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    reviewer    TEXT NOT NULL,
    score       INTEGER NOT NULL,
    signals     TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX fraud_reviews_program ON fraud_reviews (program_id, id);
CREATE INDEX fraud_reviews_referral ON fraud_reviews (referral_id);
