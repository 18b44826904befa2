-- Fraud scoring reads an advocate's and a program's referrals per hour
-- over the last week on every attributed signup: range scans by time.
CREATE INDEX referrals_advocate_time ON referrals (advocate_id, signed_up_at);
CREATE INDEX referrals_program_time ON referrals (program_id, signed_up_at);
-- "Does this program report activity events?" and per-participant activity.
CREATE INDEX events_program_type ON events (program_id, type);
-- Refunded purchases are few: the advocate-history check reads only them.
CREATE INDEX purchases_refunded ON purchases (program_id, referral_id) WHERE refunded > 0;
