-- When a participant's payout destination was first set and last changed
-- (internal/payout): payouts to a destination changed within the
-- cooling-off period wait. The row stays when the account is deleted, so
-- deleting and setting again is a change too. Accounts set before this
-- migration count as set, never changed.
CREATE TABLE payout_account_changes (
    participant_id TEXT PRIMARY KEY REFERENCES participants (id),
    program_id     TEXT NOT NULL,
    first_set_at   BIGINT NOT NULL,
    changed_at     BIGINT
);
INSERT INTO payout_account_changes (participant_id, program_id, first_set_at)
SELECT participant_id, program_id, created_at FROM payout_accounts;
