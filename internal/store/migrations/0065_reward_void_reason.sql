-- Activity-based success (issue 15): a reward voided at maturation because
-- the referred friend showed no activity during the hold records why
-- ('inactive'), so that it is shown and a manager can reinstate it.
ALTER TABLE rewards ADD COLUMN void_reason TEXT NOT NULL DEFAULT '';
