-- A payout item remembers the amount planned when its batch was made; its
-- amount is lowered, and its status says so, when the reward is reversed or
-- clawed back before the payout is sent (re-validation at approval, at
-- sending and at the bank CSV export).
ALTER TABLE payout_items ADD COLUMN planned BIGINT NOT NULL DEFAULT 0;
ALTER TABLE payout_items ADD COLUMN status TEXT NOT NULL DEFAULT 'due';
UPDATE payout_items SET planned = amount;
