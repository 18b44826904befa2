-- Payouts and integrations: payout accounts and settings, payout batches,
-- payouts with their idempotency keys and provider references, inbound
-- provider events (deduplicated by the provider's event id), outgoing webhook
-- endpoints with their delivery log, and CRM connections and links.
-- Portable SQL: BIGINT unix milliseconds, BIGINT minor units, JSON as TEXT.

-- Payout runs sum the approved bucket of a program's ledger.
CREATE INDEX ledger_program_bucket ON ledger_entries (program_id, bucket, participant_id);

-- Where a participant is paid: a Stripe connected account, a PayPal email,
-- or bank details exported as CSV for a manual transfer.
CREATE TABLE payout_accounts (
    participant_id TEXT PRIMARY KEY REFERENCES participants (id),
    program_id     TEXT NOT NULL REFERENCES programs (id),
    method         TEXT NOT NULL,
    stripe_account TEXT NOT NULL DEFAULT '',
    paypal_email   TEXT NOT NULL DEFAULT '',
    bank           TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX payout_accounts_program ON payout_accounts (program_id);

-- A program's payout policy: when runs happen, the minimum paid, and the
-- batch total under which a batch needs no manager approval.
CREATE TABLE payout_settings (
    program_id         TEXT PRIMARY KEY REFERENCES programs (id),
    schedule           TEXT NOT NULL,
    day                INTEGER NOT NULL,
    hour               INTEGER NOT NULL,
    minimum_amount     BIGINT NOT NULL,
    auto_approve_limit BIGINT NOT NULL,
    next_run_at        BIGINT,
    updated_at         BIGINT NOT NULL
);

-- One payout run. A scheduled run is unique per program and slot, so a
-- replayed schedule job never creates a second batch.
CREATE TABLE payout_batches (
    id            TEXT PRIMARY KEY,
    program_id    TEXT NOT NULL REFERENCES programs (id),
    status        TEXT NOT NULL,
    trigger_type  TEXT NOT NULL,
    scheduled_for BIGINT,
    payout_count  INTEGER NOT NULL,
    totals        TEXT NOT NULL,
    skipped       TEXT NOT NULL,
    approved_by   TEXT NOT NULL DEFAULT '',
    approved_at   BIGINT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (program_id, scheduled_for)
);
CREATE INDEX payout_batches_program ON payout_batches (program_id, id);

-- One payment to one participant in one currency. idempotency_key is derived
-- from the batch, the participant and the currency and sent to the provider
-- (Stripe Idempotency-Key, PayPal sender_batch_id), so a retried send can
-- never pay twice.
CREATE TABLE payouts (
    id              TEXT PRIMARY KEY,
    batch_id        TEXT NOT NULL REFERENCES payout_batches (id),
    program_id      TEXT NOT NULL REFERENCES programs (id),
    participant_id  TEXT NOT NULL REFERENCES participants (id),
    method          TEXT NOT NULL,
    destination     TEXT NOT NULL,
    bank            TEXT NOT NULL DEFAULT '',
    amount          BIGINT NOT NULL,
    currency        CHAR(3) NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    provider_ref    TEXT NOT NULL DEFAULT '',
    provider_status TEXT NOT NULL DEFAULT '',
    failure_reason  TEXT NOT NULL DEFAULT '',
    last_error      TEXT NOT NULL DEFAULT '',
    sent_at         BIGINT,
    paid_at         BIGINT,
    failed_at       BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (batch_id, participant_id, currency),
    CHECK (amount > 0)
);
CREATE INDEX payouts_program ON payouts (program_id, id);
CREATE INDEX payouts_program_status ON payouts (program_id, status, id);
CREATE INDEX payouts_participant ON payouts (participant_id, id);
CREATE INDEX payouts_batch ON payouts (batch_id, id);

-- The rewards a payout settles and the approved-bucket amount of each,
-- negative for a clawback netted against the payout.
CREATE TABLE payout_items (
    payout_id TEXT NOT NULL REFERENCES payouts (id),
    reward_id TEXT NOT NULL REFERENCES rewards (id),
    amount    BIGINT NOT NULL,
    PRIMARY KEY (payout_id, reward_id)
);
CREATE INDEX payout_items_reward ON payout_items (reward_id);

-- Provider webhooks received (Stripe, Shopify), deduplicated by the
-- provider's event id.
CREATE TABLE inbound_events (
    provider     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    program_id   TEXT NOT NULL DEFAULT '',
    type         TEXT NOT NULL,
    status       TEXT NOT NULL,
    detail       TEXT NOT NULL DEFAULT '',
    payload      TEXT NOT NULL DEFAULT '',
    received_at  BIGINT NOT NULL,
    processed_at BIGINT,
    PRIMARY KEY (provider, event_id)
);
CREATE INDEX inbound_events_received ON inbound_events (received_at);

-- Events that arrived before what they refer to (a refund before its
-- order): processed when a purchase with one of these references arrives.
CREATE TABLE inbound_waits (
    provider TEXT NOT NULL,
    ref      TEXT NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (provider, ref, event_id)
);

-- Provider objects linked to Parrain's: a customer to a participant, a
-- charge, payment intent or invoice to an order.
CREATE TABLE provider_links (
    provider       TEXT NOT NULL,
    kind           TEXT NOT NULL,
    ref            TEXT NOT NULL,
    program_id     TEXT NOT NULL,
    participant_id TEXT NOT NULL DEFAULT '',
    order_id       TEXT NOT NULL DEFAULT '',
    canceled_at    BIGINT,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (provider, kind, ref, program_id)
);

-- Outgoing webhooks (Standard Webhooks signatures).
CREATE TABLE webhook_endpoints (
    id              TEXT PRIMARY KEY,
    program_id      TEXT NOT NULL REFERENCES programs (id),
    url             TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    event_types     TEXT NOT NULL,
    secret          TEXT NOT NULL,
    status          TEXT NOT NULL,
    disabled_reason TEXT NOT NULL DEFAULT '',
    failing_since   BIGINT,
    last_success_at BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_program ON webhook_endpoints (program_id, id);

-- One message to one endpoint; its id is the webhook-id header, the same
-- on every attempt and replay.
CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints (id),
    program_id       TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT,
    last_status_code INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    completed_at     BIGINT
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);

-- The delivery log: every attempt with the receiver's answer.
CREATE TABLE webhook_attempts (
    id            TEXT PRIMARY KEY,
    delivery_id   TEXT NOT NULL REFERENCES webhook_deliveries (id),
    attempt       INTEGER NOT NULL,
    status_code   INTEGER NOT NULL,
    response_body TEXT NOT NULL DEFAULT '',
    error         TEXT NOT NULL DEFAULT '',
    duration_ms   BIGINT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);

-- CRM sync: one CRM per program, and the CRM records Parrain created or
-- matched (upserted by email or company domain, never duplicated).
CREATE TABLE crm_connections (
    program_id   TEXT PRIMARY KEY REFERENCES programs (id),
    provider     TEXT NOT NULL,
    options      TEXT NOT NULL,
    last_sync_at BIGINT,
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE crm_links (
    provider   TEXT NOT NULL,
    program_id TEXT NOT NULL,
    object     TEXT NOT NULL,
    local_ref  TEXT NOT NULL,
    crm_id     TEXT NOT NULL,
    stage      TEXT NOT NULL DEFAULT '',
    synced_at  BIGINT NOT NULL,
    PRIMARY KEY (provider, program_id, object, local_ref)
);
CREATE INDEX crm_links_crm ON crm_links (provider, object, crm_id);
