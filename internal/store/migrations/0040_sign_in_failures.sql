-- Failed sign-ins, counted per throttle key (internal/access: an account
-- and the source address, an account, an address — each key an HMAC, so
-- no email or address is stored here). The backoff is computed from the
-- count and the last failure; a success clears the key.
CREATE TABLE sign_in_failures (
    key             TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL,
    last_failure_at BIGINT NOT NULL
);
CREATE INDEX sign_in_failures_last ON sign_in_failures (last_failure_at);

-- Magic links are limited per partner and hour.
CREATE INDEX partner_magic_links_partner ON partner_magic_links (partner_id, created_at);
