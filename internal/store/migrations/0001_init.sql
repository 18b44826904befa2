-- Parrain's initial schema. Portable SQL for SQLite and PostgreSQL:
-- timestamps are BIGINT unix milliseconds (UTC), money is BIGINT minor units
-- with a CHAR(3) ISO 4217 currency, JSON documents are TEXT.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    program_id   TEXT,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);

CREATE TABLE programs (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    landing_url        TEXT NOT NULL,
    currency           CHAR(3) NOT NULL,
    cookie_window_days INTEGER NOT NULL,
    attribution_model  TEXT NOT NULL,
    hold_days          INTEGER NOT NULL,
    status             TEXT NOT NULL,
    rules              TEXT NOT NULL,
    version            INTEGER NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);

-- Every version of a program's rules, so a reward's rule_version can always
-- be explained even after the rules change.
CREATE TABLE program_versions (
    program_id TEXT NOT NULL REFERENCES programs (id),
    version    INTEGER NOT NULL,
    document   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (program_id, version)
);

CREATE TABLE participants (
    id              TEXT PRIMARY KEY,
    program_id      TEXT NOT NULL REFERENCES programs (id),
    external_id     TEXT NOT NULL,
    email           TEXT NOT NULL DEFAULT '',
    email_canonical TEXT NOT NULL DEFAULT '',
    name            TEXT NOT NULL DEFAULT '',
    locale          TEXT NOT NULL DEFAULT '',
    code            TEXT NOT NULL UNIQUE,
    status          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (program_id, external_id)
);
CREATE INDEX participants_email ON participants (program_id, email_canonical);
CREATE INDEX participants_program ON participants (program_id, id);

CREATE TABLE clicks (
    id             TEXT PRIMARY KEY,
    program_id     TEXT,
    participant_id TEXT,
    code           TEXT NOT NULL,
    valid          BOOLEAN NOT NULL,
    ip_hash        TEXT NOT NULL DEFAULT '',
    user_agent     TEXT NOT NULL DEFAULT '',
    referer        TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL
);
CREATE INDEX clicks_participant ON clicks (participant_id, created_at);
CREATE INDEX clicks_program ON clicks (program_id, created_at);

CREATE TABLE events (
    id             TEXT PRIMARY KEY,
    program_id     TEXT NOT NULL REFERENCES programs (id),
    type           TEXT NOT NULL,
    participant_id TEXT,
    referral_id    TEXT,
    payload        TEXT NOT NULL,
    occurred_at    BIGINT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX events_program ON events (program_id, id);
CREATE INDEX events_participant ON events (participant_id, id);

CREATE TABLE referrals (
    id           TEXT PRIMARY KEY,
    program_id   TEXT NOT NULL REFERENCES programs (id),
    advocate_id  TEXT NOT NULL REFERENCES participants (id),
    friend_id    TEXT NOT NULL REFERENCES participants (id),
    code         TEXT NOT NULL,
    status       TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    via          TEXT NOT NULL,
    clicked_at   BIGINT,
    signed_up_at BIGINT NOT NULL,
    converted_at BIGINT,
    created_at   BIGINT NOT NULL,
    UNIQUE (program_id, friend_id)
);
CREATE INDEX referrals_program ON referrals (program_id, id);
CREATE INDEX referrals_program_status ON referrals (program_id, status, id);
CREATE INDEX referrals_advocate ON referrals (advocate_id, id);

CREATE TABLE purchases (
    id             TEXT PRIMARY KEY,
    program_id     TEXT NOT NULL REFERENCES programs (id),
    participant_id TEXT NOT NULL REFERENCES participants (id),
    referral_id    TEXT,
    order_id       TEXT NOT NULL,
    amount         BIGINT NOT NULL,
    currency       CHAR(3) NOT NULL,
    refunded       BIGINT NOT NULL DEFAULT 0,
    event_id       TEXT NOT NULL,
    occurred_at    BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    UNIQUE (program_id, order_id),
    CHECK (refunded >= 0 AND refunded <= amount)
);
CREATE INDEX purchases_participant ON purchases (participant_id);
CREATE INDEX purchases_referral ON purchases (referral_id);

CREATE TABLE refunds (
    id          TEXT PRIMARY KEY,
    program_id  TEXT NOT NULL,
    purchase_id TEXT NOT NULL REFERENCES purchases (id),
    amount      BIGINT NOT NULL,
    event_id    TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX refunds_purchase ON refunds (purchase_id);

CREATE TABLE rewards (
    id             TEXT PRIMARY KEY,
    program_id     TEXT NOT NULL REFERENCES programs (id),
    participant_id TEXT NOT NULL REFERENCES participants (id),
    referral_id    TEXT NOT NULL REFERENCES referrals (id),
    purchase_id    TEXT,
    event_id       TEXT NOT NULL,
    rule_id        TEXT NOT NULL,
    rule_version   INTEGER NOT NULL,
    role           TEXT NOT NULL,
    trigger_type   TEXT NOT NULL,
    kind           TEXT NOT NULL,
    amount_type    TEXT NOT NULL,
    amount         BIGINT NOT NULL,
    currency       CHAR(3) NOT NULL,
    reversed       BIGINT NOT NULL DEFAULT 0,
    status         TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    explanation    TEXT NOT NULL DEFAULT '',
    hold_until     BIGINT NOT NULL,
    approved_at    BIGINT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (event_id, rule_id, role),
    CHECK (amount > 0 AND reversed >= 0 AND reversed <= amount)
);
CREATE INDEX rewards_participant ON rewards (participant_id, status, id);
CREATE INDEX rewards_program ON rewards (program_id, status, id);
CREATE INDEX rewards_purchase ON rewards (purchase_id);
CREATE INDEX rewards_referral ON rewards (referral_id);

-- The ledger: append-only (see the guard migration), one row per movement.
CREATE TABLE ledger_entries (
    id             TEXT PRIMARY KEY,
    program_id     TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    reward_id      TEXT NOT NULL REFERENCES rewards (id),
    type           TEXT NOT NULL,
    bucket         TEXT NOT NULL,
    amount         BIGINT NOT NULL,
    currency       CHAR(3) NOT NULL,
    memo           TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL
);
CREATE INDEX ledger_participant ON ledger_entries (participant_id, bucket);
CREATE INDEX ledger_reward ON ledger_entries (reward_id);

CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    unique_key   TEXT UNIQUE,
    payload      TEXT NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at       BIGINT NOT NULL,
    locked_by    TEXT NOT NULL DEFAULT '',
    locked_until BIGINT NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    finished_at  BIGINT
);
CREATE INDEX jobs_ready ON jobs (state, run_at);

CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response     TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
