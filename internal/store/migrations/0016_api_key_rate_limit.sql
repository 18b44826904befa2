-- Hardening (issue 13). An API key may have its own rate limit, in
-- requests a minute (NULL: the installation's default, --api-rate-limit).
-- Idempotency keys expire (--idempotency-ttl, 24 hours by default): the
-- expiry check and the purge of old keys read created_at.
ALTER TABLE api_keys ADD COLUMN rate_limit INTEGER;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
