-- The reward engine: program settings, participant attributes, referral
-- success, stages, reward details, fulfilment with code pools, alerts,
-- contests and versioned terms. Portable SQL for SQLite and PostgreSQL.

-- Programs: the engine settings (JSON), a stable key for program-as-code,
-- and the fulfilment webhook secret, encrypted with the installation secret.
ALTER TABLE programs ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
ALTER TABLE programs ADD COLUMN program_key TEXT NOT NULL DEFAULT '';
ALTER TABLE programs ADD COLUMN fulfilment_secret TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX programs_key ON programs (program_key) WHERE program_key <> '';

-- Participants: the customer's facts (plan, segment, paying, …) as JSON.
ALTER TABLE participants ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';

-- Referrals: when the referral became successful (the program's success
-- definition), when the customer cancelled, and when a cancel within the
-- hold voided the success.
ALTER TABLE referrals ADD COLUMN succeeded_at BIGINT;
ALTER TABLE referrals ADD COLUMN cancelled_at BIGINT;
ALTER TABLE referrals ADD COLUMN voided_at BIGINT;
CREATE INDEX referrals_advocate_success ON referrals (advocate_id, succeeded_at);
CREATE INDEX referrals_program_success ON referrals (program_id, succeeded_at);
-- Until now a referral succeeded at its first purchase (the default).
UPDATE referrals SET succeeded_at = converted_at WHERE converted_at IS NOT NULL AND status <> 'rejected';

-- Rewards: when their event happened (periods of caps and tiers), the
-- stage, the rate and base they applied to, the exchange rate snapshot,
-- the manual review state and the structured explanation (JSON).
ALTER TABLE rewards ADD COLUMN occurred_at BIGINT;
ALTER TABLE rewards ADD COLUMN stage TEXT NOT NULL DEFAULT '';
ALTER TABLE rewards ADD COLUMN rate_bps BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rewards ADD COLUMN base_amount BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rewards ADD COLUMN base_currency TEXT NOT NULL DEFAULT '';
ALTER TABLE rewards ADD COLUMN fx_rate TEXT NOT NULL DEFAULT '';
ALTER TABLE rewards ADD COLUMN review TEXT NOT NULL DEFAULT '';
ALTER TABLE rewards ADD COLUMN review_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE rewards ADD COLUMN details TEXT NOT NULL DEFAULT '';
UPDATE rewards SET occurred_at = created_at WHERE occurred_at IS NULL;
CREATE INDEX rewards_participant_time ON rewards (participant_id, occurred_at);
CREATE INDEX rewards_program_time ON rewards (program_id, occurred_at);
CREATE INDEX rewards_program_review ON rewards (program_id, review, id);

-- The stages each referral reached, at most once each. The first
-- qualifying purchase is recorded as the pseudo-stage ':first_purchase'.
CREATE TABLE referral_stages (
    referral_id TEXT NOT NULL REFERENCES referrals (id),
    stage       TEXT NOT NULL,
    program_id  TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    value       BIGINT,
    currency    TEXT NOT NULL DEFAULT '',
    occurred_at BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (referral_id, stage)
);
INSERT INTO referral_stages (referral_id, stage, program_id, event_id, value, currency, occurred_at, created_at)
    SELECT id, ':first_purchase', program_id, '', NULL, '', converted_at, created_at FROM referrals WHERE converted_at IS NOT NULL;

-- Code pools for coupons and gift cards: imported codes, or generated ones
-- when generate_length > 0.
CREATE TABLE coupon_pools (
    id              TEXT PRIMARY KEY,
    program_id      TEXT NOT NULL REFERENCES programs (id),
    name            TEXT NOT NULL,
    generate_prefix TEXT NOT NULL DEFAULT '',
    generate_length INTEGER NOT NULL DEFAULT 0,
    low_water       INTEGER NOT NULL DEFAULT 10,
    created_at      BIGINT NOT NULL,
    UNIQUE (program_id, name)
);
CREATE TABLE coupon_codes (
    id          TEXT PRIMARY KEY,
    pool_id     TEXT NOT NULL REFERENCES coupon_pools (id),
    program_id  TEXT NOT NULL,
    code        TEXT NOT NULL,
    reward_id   TEXT,
    assigned_at BIGINT,
    created_at  BIGINT NOT NULL,
    UNIQUE (program_id, code)
);
CREATE INDEX coupon_codes_pool ON coupon_codes (pool_id, reward_id, id);
CREATE UNIQUE INDEX coupon_codes_reward ON coupon_codes (reward_id) WHERE reward_id IS NOT NULL;

-- Delivery of non-cash rewards.
CREATE TABLE reward_fulfilments (
    reward_id    TEXT PRIMARY KEY REFERENCES rewards (id),
    program_id   TEXT NOT NULL,
    kind         TEXT NOT NULL,
    status       TEXT NOT NULL,
    pool         TEXT NOT NULL DEFAULT '',
    code         TEXT NOT NULL DEFAULT '',
    feature      TEXT NOT NULL DEFAULT '',
    days         INTEGER NOT NULL DEFAULT 0,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    fulfilled_at BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX reward_fulfilments_status ON reward_fulfilments (program_id, status, reward_id);

-- Alerts a manager must see (a code pool running dry, fulfilment failing).
-- At most one open alert per program, kind and subject.
CREATE TABLE alerts (
    id          TEXT PRIMARY KEY,
    program_id  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    message     TEXT NOT NULL,
    occurrences INTEGER NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    resolved_at BIGINT
);
CREATE UNIQUE INDEX alerts_open ON alerts (program_id, kind, subject) WHERE resolved_at IS NULL;
CREATE INDEX alerts_program ON alerts (program_id, id);

-- Contests and their winners.
CREATE TABLE contests (
    id          TEXT PRIMARY KEY,
    program_id  TEXT NOT NULL REFERENCES programs (id),
    document    TEXT NOT NULL,
    starts_at   BIGINT NOT NULL,
    ends_at     BIGINT NOT NULL,
    finished_at BIGINT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX contests_program ON contests (program_id, id);
CREATE TABLE contest_winners (
    contest_id     TEXT NOT NULL REFERENCES contests (id),
    participant_id TEXT NOT NULL REFERENCES participants (id),
    rank           INTEGER NOT NULL,
    score          INTEGER NOT NULL,
    reward_id      TEXT NOT NULL,
    PRIMARY KEY (contest_id, participant_id)
);

-- Terms, versioned by content, and their acceptance by participants.
CREATE TABLE program_terms (
    program_id      TEXT NOT NULL REFERENCES programs (id),
    version         INTEGER NOT NULL,
    program_version INTEGER NOT NULL,
    sha256          TEXT NOT NULL,
    markdown        TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (program_id, version),
    UNIQUE (program_id, sha256)
);
CREATE TABLE terms_acceptances (
    id             TEXT PRIMARY KEY,
    program_id     TEXT NOT NULL,
    participant_id TEXT NOT NULL REFERENCES participants (id),
    terms_version  INTEGER NOT NULL,
    accepted_at    BIGINT NOT NULL,
    UNIQUE (participant_id, terms_version)
);
