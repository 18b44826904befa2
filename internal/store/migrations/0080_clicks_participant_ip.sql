-- Click writes (issue 18): no query reads clicks by (participant_id, ip);
-- every read by participant is served by clicks_participant
-- (participant_id, created_at). One B-tree less to write per click, and
-- none to rewrite when the retention sweep blanks old clicks' addresses.
DROP INDEX IF EXISTS clicks_participant_ip;
