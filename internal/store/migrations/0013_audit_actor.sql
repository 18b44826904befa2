-- The audit log names every kind of actor (console user, API key, command
-- line, partner, advocate, background job, provider webhook), not only
-- console users, and is filtered by actor and by time.
ALTER TABLE audit_log ADD COLUMN actor_type TEXT NOT NULL DEFAULT 'user';
CREATE INDEX audit_actor ON audit_log (actor_type, user_id, id);
CREATE INDEX audit_action ON audit_log (action, id);
CREATE INDEX audit_created ON audit_log (created_at, id);
