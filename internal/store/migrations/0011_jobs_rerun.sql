-- A job kicked while it runs (codes imported while its delivery job is
-- parking the reward for lack of codes) is re-armed: rerun makes its
-- completion put it back to run at once instead of finishing it.
ALTER TABLE jobs ADD COLUMN rerun INTEGER NOT NULL DEFAULT 0;
