-- The advocate and friend experience: widget secrets and settings per
-- program, shares, email invitations, contact consents, unsubscribes, the
-- in-app notification feed, the email log, editable email templates, moment
-- triggers with their firings, and the refer-by-name index. Portable SQL:
-- BIGINT unix-ms timestamps, JSON as TEXT.

-- One row per program: its experience settings (JSON, see
-- parrain.Experience) and its widget secret. The secret signs the widget
-- tokens the customer's backend mints, so it is kept as is (HMAC
-- verification needs it); it is returned once, when rotated. After a
-- rotation the previous secret stays valid until previous_until.
CREATE TABLE program_experience (
    program_id      TEXT PRIMARY KEY REFERENCES programs (id),
    settings        TEXT NOT NULL,
    widget_secret   TEXT NOT NULL DEFAULT '',
    secret_version  INTEGER NOT NULL DEFAULT 0,
    previous_secret TEXT NOT NULL DEFAULT '',
    previous_until  BIGINT NOT NULL DEFAULT 0,
    rotated_at      BIGINT,
    updated_at      BIGINT NOT NULL
);

-- A share button used in the widget, per channel (the share rate is a KPI).
CREATE TABLE shares (
    id             TEXT PRIMARY KEY,
    program_id     TEXT NOT NULL REFERENCES programs (id),
    participant_id TEXT NOT NULL REFERENCES participants (id),
    channel        TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX shares_program ON shares (program_id, created_at);
CREATE INDEX shares_participant ON shares (participant_id, created_at);

-- Email invitations typed by advocates: one per address and program, ever.
CREATE TABLE invites (
    id              TEXT PRIMARY KEY,
    program_id      TEXT NOT NULL REFERENCES programs (id),
    participant_id  TEXT NOT NULL REFERENCES participants (id),
    email           TEXT NOT NULL,
    email_canonical TEXT NOT NULL,
    locale          TEXT NOT NULL DEFAULT '',
    note            TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    UNIQUE (program_id, email_canonical)
);
CREATE INDEX invites_participant ON invites (participant_id, created_at);
CREATE INDEX invites_program ON invites (program_id, created_at);

-- Contact consent of a referred friend (or its refusal), with the wording
-- shown and its version. A landing-page consent has no participant until
-- the friend's signup names it (consent_id on the event).
CREATE TABLE consents (
    id              TEXT PRIMARY KEY,
    program_id      TEXT NOT NULL REFERENCES programs (id),
    participant_id  TEXT REFERENCES participants (id),
    code            TEXT NOT NULL DEFAULT '',
    granted         BOOLEAN NOT NULL,
    wording_version TEXT NOT NULL,
    wording         TEXT NOT NULL,
    locale          TEXT NOT NULL DEFAULT '',
    source          TEXT NOT NULL,
    ip_hash         TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL
);
CREATE INDEX consents_participant ON consents (participant_id, id);
CREATE INDEX consents_program ON consents (program_id, id);

-- Addresses that unsubscribed from a program's emails. Checked when an
-- email is queued and again when it is sent.
CREATE TABLE unsubscribes (
    program_id      TEXT NOT NULL,
    email_canonical TEXT NOT NULL,
    source          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (program_id, email_canonical)
);

-- The in-app notification feed. dedupe_key makes every notice happen once
-- (e.g. reward_earned:rwd_…), whatever retries the jobs make.
CREATE TABLE notifications (
    id             TEXT PRIMARY KEY,
    program_id     TEXT NOT NULL REFERENCES programs (id),
    participant_id TEXT NOT NULL REFERENCES participants (id),
    kind           TEXT NOT NULL,
    data           TEXT NOT NULL,
    dedupe_key     TEXT NOT NULL UNIQUE,
    read_at        BIGINT,
    created_at     BIGINT NOT NULL
);
CREATE INDEX notifications_participant ON notifications (participant_id, id);

-- Every email Parrain composes: queued, sent, failed, or suppressed (and
-- why). The rendered parts are kept, so a retry sends exactly what was
-- recorded.
CREATE TABLE email_messages (
    id              TEXT PRIMARY KEY,
    program_id      TEXT NOT NULL REFERENCES programs (id),
    participant_id  TEXT,
    to_email        TEXT NOT NULL,
    to_canonical    TEXT NOT NULL,
    kind            TEXT NOT NULL,
    locale          TEXT NOT NULL,
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    html_body       TEXT NOT NULL,
    unsubscribe_url TEXT NOT NULL DEFAULT '',
    dedupe_key      TEXT NOT NULL UNIQUE,
    status          TEXT NOT NULL,
    error           TEXT NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX email_messages_program ON email_messages (program_id, id);
CREATE INDEX email_messages_to ON email_messages (program_id, to_canonical, id);

-- Per-program overrides of the built-in email templates, per kind and
-- locale (Go templates).
CREATE TABLE email_templates (
    program_id TEXT NOT NULL REFERENCES programs (id),
    kind       TEXT NOT NULL,
    locale     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    text_body  TEXT NOT NULL,
    html_body  TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (program_id, kind, locale)
);

-- Moment triggers (parrain.MomentTrigger as JSON in definition).
CREATE TABLE moment_triggers (
    id         TEXT PRIMARY KEY,
    program_id TEXT NOT NULL REFERENCES programs (id),
    kind       TEXT NOT NULL,
    status     TEXT NOT NULL,
    definition TEXT NOT NULL,
    deleted_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX moment_triggers_program ON moment_triggers (program_id, id);

-- When each trigger last fired for each participant (the cooldown), and
-- every firing with its effects and their outcome.
CREATE TABLE moment_trigger_state (
    trigger_id     TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    last_fired_at  BIGINT NOT NULL,
    PRIMARY KEY (trigger_id, participant_id)
);
CREATE TABLE moment_firings (
    id             TEXT PRIMARY KEY,
    trigger_id     TEXT NOT NULL REFERENCES moment_triggers (id),
    program_id     TEXT NOT NULL,
    participant_id TEXT NOT NULL REFERENCES participants (id),
    event_id       TEXT NOT NULL,
    effects        TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX moment_firings_trigger ON moment_firings (trigger_id, id);
CREATE INDEX moment_firings_participant ON moment_firings (participant_id, id);

-- Refer-by-name index: the parrain.NameKey of each participant's name,
-- caught up from participants.updated_at at lookup time.
CREATE TABLE participant_name_keys (
    participant_id TEXT PRIMARY KEY REFERENCES participants (id),
    program_id     TEXT NOT NULL,
    name_key       TEXT NOT NULL,
    name_src       TEXT NOT NULL
);
CREATE INDEX participant_name_keys_lookup ON participant_name_keys (program_id, name_key);
CREATE INDEX participants_updated ON participants (updated_at);
-- The notification sweep finds recent approvals and payouts by type and time.
CREATE INDEX ledger_type_created ON ledger_entries (type, created_at);
