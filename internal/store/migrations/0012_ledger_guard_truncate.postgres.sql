-- The append-only guard also refuses TRUNCATE (row triggers do not fire on
-- it). A superuser can still drop or disable the triggers: see
-- docs/payouts.md.
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_append_only();
