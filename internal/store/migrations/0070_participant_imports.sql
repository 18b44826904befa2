-- Bulk imports of existing customers (docs/api.md, "Importing
-- participants"): one row per uploaded file, run by the participants.import
-- job, and one row per line of the file. A line's data (the participant it
-- describes, as JSON) is blanked once the line is processed; rejected lines
-- keep their row number, field and reason for the report.
CREATE TABLE participant_imports (
    id           TEXT PRIMARY KEY,
    program_id   TEXT NOT NULL REFERENCES programs (id),
    format       TEXT NOT NULL,
    dry_run      BOOLEAN NOT NULL,
    status       TEXT NOT NULL,
    total_rows   BIGINT NOT NULL,
    processed    BIGINT NOT NULL DEFAULT 0,
    created      BIGINT NOT NULL DEFAULT 0,
    updated      BIGINT NOT NULL DEFAULT 0,
    unchanged    BIGINT NOT NULL DEFAULT 0,
    rejected     BIGINT NOT NULL DEFAULT 0,
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    finished_at  BIGINT
);
CREATE INDEX participant_imports_program ON participant_imports (program_id, id);

CREATE TABLE participant_import_rows (
    import_id  TEXT NOT NULL REFERENCES participant_imports (id),
    row_number BIGINT NOT NULL,
    state      TEXT NOT NULL,
    data       TEXT NOT NULL DEFAULT '',
    field      TEXT NOT NULL DEFAULT '',
    message    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (import_id, row_number)
);
CREATE INDEX participant_import_rows_state ON participant_import_rows (import_id, state, row_number);
