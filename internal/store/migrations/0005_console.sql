-- The admin console: users and their sessions, the audit log, per-program
-- branding, and the indexes the console's lists, searches and KPIs need to
-- stay fast on large programs. Portable SQL for SQLite and PostgreSQL.

-- Console users. Emails are stored lower-cased; passwords as argon2id PHC
-- strings. A disabled user keeps its row so the audit log can name it.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    last_login_at BIGINT,
    disabled_at   BIGINT
);

-- Sign-in sessions. Only the SHA-256 of the cookie token is stored; the
-- CSRF token is per session. Deleting a row signs that browser out.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users (id),
    csrf_token   TEXT NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id, id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Who did what, when: every change made from the console (and any other
-- audited action). Append-only by convention; details is a JSON object.
CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL DEFAULT '',
    user_email  TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL DEFAULT '',
    target_id   TEXT NOT NULL DEFAULT '',
    program_id  TEXT NOT NULL DEFAULT '',
    details     TEXT NOT NULL DEFAULT '{}',
    created_at  BIGINT NOT NULL
);
CREATE INDEX audit_target ON audit_log (target_type, target_id, id);
CREATE INDEX audit_program ON audit_log (program_id, id);

-- How a program looks to advocates and friends.
CREATE TABLE program_branding (
    program_id    TEXT PRIMARY KEY REFERENCES programs (id),
    logo_url      TEXT NOT NULL DEFAULT '',
    primary_color TEXT NOT NULL DEFAULT '',
    accent_color  TEXT NOT NULL DEFAULT '',
    updated_at    BIGINT NOT NULL,
    updated_by    TEXT NOT NULL DEFAULT ''
);

-- Participant search: prefix lookups on the first three characters of the
-- lower-cased name and email are equality lookups on these expression
-- indexes, which both databases support under any collation; the id
-- serves the newest-first order.
CREATE INDEX participants_name_prefix ON participants (program_id, substr(lower(name), 1, 3), id);
CREATE INDEX participants_email_prefix ON participants (program_id, substr(lower(email), 1, 3), id);
CREATE INDEX participants_program_created ON participants (program_id, created_at);

-- KPI ranges, date filters and the participant timeline.
CREATE INDEX clicks_program_participant ON clicks (program_id, created_at, participant_id, valid);
CREATE INDEX referrals_program_signed ON referrals (program_id, signed_up_at, id);
CREATE INDEX referrals_program_status_signed ON referrals (program_id, status, signed_up_at, id);
CREATE INDEX referrals_program_converted ON referrals (program_id, converted_at);
CREATE INDEX referrals_advocate_signed ON referrals (advocate_id, signed_up_at, id);
CREATE INDEX referrals_program_review_signed ON referrals (program_id, review_status, signed_up_at);
CREATE INDEX purchases_program_occurred ON purchases (program_id, occurred_at);
CREATE INDEX events_program_occurred ON events (program_id, occurred_at);
CREATE INDEX events_referral ON events (referral_id, id);
