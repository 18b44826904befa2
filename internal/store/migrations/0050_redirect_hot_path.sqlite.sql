-- The redirect's hot path (issue 18).
--
-- clicks_program (program_id, created_at) is a prefix of
-- clicks_program_participant (program_id, created_at, participant_id, valid),
-- which serves every query it served: one index less to write per click.
DROP INDEX IF EXISTS clicks_program;

-- code_cache_version changes in the transaction that changes what a
-- referral code resolves to (a program, its experience settings, a
-- participant's code or status), whoever writes it: every server process
-- polls it to drop its cache of codes (store.CodeCacheVersion). A new
-- participant does not bump it (a signup must not serialise on one row).
CREATE TABLE code_cache_version (id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL);
INSERT INTO code_cache_version (id, version) VALUES (1, 1);

CREATE TRIGGER code_cache_programs_insert AFTER INSERT ON programs
BEGIN UPDATE code_cache_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER code_cache_programs_update AFTER UPDATE ON programs
WHEN OLD.status IS NOT NEW.status OR OLD.landing_url IS NOT NEW.landing_url OR OLD.cookie_window_days IS NOT NEW.cookie_window_days
BEGIN UPDATE code_cache_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER code_cache_programs_delete AFTER DELETE ON programs
BEGIN UPDATE code_cache_version SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER code_cache_participants_update AFTER UPDATE ON participants
WHEN OLD.code IS NOT NEW.code OR OLD.status IS NOT NEW.status
BEGIN UPDATE code_cache_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER code_cache_participants_delete AFTER DELETE ON participants
BEGIN UPDATE code_cache_version SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER code_cache_experience_insert AFTER INSERT ON program_experience
BEGIN UPDATE code_cache_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER code_cache_experience_update AFTER UPDATE ON program_experience
WHEN OLD.settings IS NOT NEW.settings
BEGIN UPDATE code_cache_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER code_cache_experience_delete AFTER DELETE ON program_experience
BEGIN UPDATE code_cache_version SET version = version + 1 WHERE id = 1; END;
