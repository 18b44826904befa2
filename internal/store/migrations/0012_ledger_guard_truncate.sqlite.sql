-- The append-only guard also refuses INSERT OR REPLACE / REPLACE INTO over
-- an existing entry: REPLACE deletes the old row without firing DELETE
-- triggers (unless recursive_triggers is on), so refuse the insert itself.
CREATE TRIGGER ledger_entries_no_replace BEFORE INSERT ON ledger_entries
    WHEN EXISTS (SELECT 1 FROM ledger_entries WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'ledger_entries is append-only');
END;
