-- The B2B partner program: settings and tiers per program, partners (a
-- participant plus a partner record), lead registrations with their
-- exclusivity claims, excluded accounts, the conflict decisions log, deal
-- stage history, assets, surveys, and the partner portal's sign-in.

CREATE TABLE partner_programs (
    program_id  TEXT PRIMARY KEY REFERENCES programs (id),
    slug        TEXT NOT NULL UNIQUE,
    settings    TEXT NOT NULL,
    tiers       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE partners (
    id                   TEXT PRIMARY KEY,
    program_id           TEXT NOT NULL REFERENCES programs (id),
    participant_id       TEXT REFERENCES participants (id),
    email                TEXT NOT NULL,
    name                 TEXT NOT NULL,
    company              TEXT NOT NULL DEFAULT '',
    website              TEXT NOT NULL DEFAULT '',
    message              TEXT NOT NULL DEFAULT '',
    status               TEXT NOT NULL,
    tier                 TEXT NOT NULL DEFAULT '',
    source               TEXT NOT NULL,
    agreement_version    TEXT NOT NULL DEFAULT '',
    agreement_at         BIGINT,
    kickoff_at           BIGINT,
    training_at          BIGINT,
    password_hash        TEXT NOT NULL DEFAULT '',
    decision_note        TEXT NOT NULL DEFAULT '',
    applied_at           BIGINT NOT NULL,
    approved_at          BIGINT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    UNIQUE (program_id, email)
);
CREATE INDEX partners_program ON partners (program_id, status, id);

CREATE TABLE partner_tier_history (
    id          TEXT PRIMARY KEY,
    partner_id  TEXT NOT NULL REFERENCES partners (id),
    program_id  TEXT NOT NULL,
    from_tier   TEXT NOT NULL,
    to_tier     TEXT NOT NULL,
    direction   TEXT NOT NULL,
    reason      TEXT NOT NULL,
    seen_at     BIGINT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX partner_tier_history_partner ON partner_tier_history (partner_id, id);

CREATE TABLE partner_leads (
    id              TEXT PRIMARY KEY,
    program_id      TEXT NOT NULL REFERENCES programs (id),
    partner_id      TEXT NOT NULL REFERENCES partners (id),
    company_name    TEXT NOT NULL,
    domain          TEXT NOT NULL,
    company_key     TEXT NOT NULL,
    contact_name    TEXT NOT NULL DEFAULT '',
    contact_email   TEXT NOT NULL DEFAULT '',
    company_size    INTEGER NOT NULL DEFAULT 0,
    industry        TEXT NOT NULL DEFAULT '',
    notes           TEXT NOT NULL DEFAULT '',
    consent         BOOLEAN NOT NULL,
    credit          TEXT NOT NULL,
    stage           TEXT NOT NULL,
    stage_kind      TEXT NOT NULL,
    value           BIGINT NOT NULL DEFAULT 0,
    currency        CHAR(3) NOT NULL,
    tier_at_close   TEXT NOT NULL DEFAULT '',
    referral_id     TEXT,
    expires_at      BIGINT NOT NULL,
    registered_at   BIGINT NOT NULL,
    closed_at       BIGINT,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX partner_leads_partner ON partner_leads (partner_id, id);
CREATE INDEX partner_leads_program ON partner_leads (program_id, id);
CREATE INDEX partner_leads_domain ON partner_leads (program_id, domain);

-- The current owner of each account key ("domain:acme.com",
-- "company:acme") of a program. A registration claims its keys with an
-- insert that only replaces an expired claim, in the same transaction as
-- the lead: two partners racing for one account get exactly one claim.
CREATE TABLE partner_claims (
    program_id  TEXT NOT NULL,
    account_key TEXT NOT NULL,
    lead_id     TEXT NOT NULL,
    partner_id  TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (program_id, account_key)
);
CREATE INDEX partner_claims_lead ON partner_claims (lead_id);

CREATE TABLE partner_extensions (
    id           TEXT PRIMARY KEY,
    program_id   TEXT NOT NULL,
    lead_id      TEXT NOT NULL REFERENCES partner_leads (id),
    partner_id   TEXT NOT NULL,
    days         INTEGER NOT NULL,
    reason       TEXT NOT NULL,
    status       TEXT NOT NULL,
    decided_by   TEXT NOT NULL DEFAULT '',
    decision     TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    decided_at   BIGINT
);
CREATE INDEX partner_extensions_program ON partner_extensions (program_id, status, id);

CREATE TABLE partner_exclusions (
    id           TEXT PRIMARY KEY,
    program_id   TEXT NOT NULL REFERENCES programs (id),
    kind         TEXT NOT NULL,
    domain       TEXT NOT NULL DEFAULT '',
    company_name TEXT NOT NULL DEFAULT '',
    reason       TEXT NOT NULL DEFAULT '',
    engaged_at   BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX partner_exclusions_program ON partner_exclusions (program_id, id);

-- Every registration, account check and extension decision, explained.
CREATE TABLE partner_decisions (
    id           TEXT PRIMARY KEY,
    program_id   TEXT NOT NULL,
    kind         TEXT NOT NULL,
    partner_id   TEXT NOT NULL DEFAULT '',
    lead_id      TEXT NOT NULL DEFAULT '',
    domain       TEXT NOT NULL DEFAULT '',
    company_name TEXT NOT NULL DEFAULT '',
    outcome      TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    explanation  TEXT NOT NULL,
    actor        TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL
);
CREATE INDEX partner_decisions_program ON partner_decisions (program_id, id);

CREATE TABLE partner_deal_stages (
    id          TEXT PRIMARY KEY,
    lead_id     TEXT NOT NULL REFERENCES partner_leads (id),
    program_id  TEXT NOT NULL,
    from_stage  TEXT NOT NULL,
    to_stage    TEXT NOT NULL,
    value       BIGINT NOT NULL DEFAULT 0,
    source      TEXT NOT NULL,
    actor       TEXT NOT NULL DEFAULT '',
    event_id    TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE INDEX partner_deal_stages_lead ON partner_deal_stages (lead_id, id);

-- Files are stored base64-encoded in TEXT (portable; assets are small).
CREATE TABLE partner_assets (
    id            TEXT PRIMARY KEY,
    program_id    TEXT NOT NULL REFERENCES programs (id),
    title         TEXT NOT NULL,
    kind          TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          BIGINT NOT NULL,
    content       TEXT NOT NULL,
    min_tier      TEXT NOT NULL DEFAULT '',
    downloads     BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);
CREATE INDEX partner_assets_program ON partner_assets (program_id, id);

CREATE TABLE partner_asset_downloads (
    id          TEXT PRIMARY KEY,
    asset_id    TEXT NOT NULL REFERENCES partner_assets (id),
    partner_id  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX partner_asset_downloads_asset ON partner_asset_downloads (asset_id);

CREATE TABLE partner_surveys (
    id           TEXT PRIMARY KEY,
    program_id   TEXT NOT NULL REFERENCES programs (id),
    title        TEXT NOT NULL,
    questions    TEXT NOT NULL,
    period_days  INTEGER NOT NULL,
    active       BOOLEAN NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX partner_surveys_program ON partner_surveys (program_id, id);

CREATE TABLE partner_survey_answers (
    id          TEXT PRIMARY KEY,
    survey_id   TEXT NOT NULL REFERENCES partner_surveys (id),
    partner_id  TEXT NOT NULL REFERENCES partners (id),
    period      BIGINT NOT NULL,
    answers     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (survey_id, partner_id, period)
);

-- Portal sign-in: sessions and one-time magic links, stored as SHA-256
-- hashes of their tokens.
CREATE TABLE partner_sessions (
    token_hash  TEXT PRIMARY KEY,
    partner_id  TEXT NOT NULL REFERENCES partners (id),
    csrf        TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX partner_sessions_partner ON partner_sessions (partner_id);

CREATE TABLE partner_magic_links (
    token_hash  TEXT PRIMARY KEY,
    partner_id  TEXT NOT NULL REFERENCES partners (id),
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,
    created_at  BIGINT NOT NULL
);
