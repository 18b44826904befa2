-- A/B experiments on a program (internal/referral/experiments.go): the
-- experiment, its arms (the first is the control), the units assigned to
-- an arm (recorded once, at the first exposure, then sticky) and which
-- experiment arm each reward was priced under.
CREATE TABLE experiments (
    id               TEXT PRIMARY KEY,
    program_id       TEXT NOT NULL REFERENCES programs (id),
    name             TEXT NOT NULL,
    hypothesis       TEXT NOT NULL DEFAULT '',
    unit             TEXT NOT NULL,
    primary_metric   TEXT NOT NULL,
    guardrails       TEXT NOT NULL DEFAULT '[]',
    mde_bps          INTEGER NOT NULL,
    status           TEXT NOT NULL,
    started_at       BIGINT,
    stopped_at       BIGINT,
    promoted_arm     TEXT NOT NULL DEFAULT '',
    promoted_version INTEGER,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX experiments_program ON experiments (program_id, status, id);

CREATE TABLE experiment_arms (
    experiment_id TEXT NOT NULL REFERENCES experiments (id),
    arm           TEXT NOT NULL,
    position      INTEGER NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    weight        INTEGER NOT NULL,
    overrides     TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (experiment_id, arm)
);

-- unit_id is a participant id (unit advocate) or a landing-page visitor id
-- (unit visitor). first_exposed_at is set once; exposures counts every
-- exposure after it.
CREATE TABLE experiment_assignments (
    experiment_id    TEXT NOT NULL REFERENCES experiments (id),
    unit_id          TEXT NOT NULL,
    arm              TEXT NOT NULL,
    first_exposed_at BIGINT NOT NULL,
    last_exposed_at  BIGINT NOT NULL,
    exposures        BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (experiment_id, unit_id)
);
CREATE INDEX experiment_assignments_arm ON experiment_assignments (experiment_id, arm, first_exposed_at);
CREATE INDEX experiment_assignments_unit ON experiment_assignments (unit_id);

CREATE TABLE experiment_rewards (
    reward_id     TEXT PRIMARY KEY REFERENCES rewards (id),
    experiment_id TEXT NOT NULL REFERENCES experiments (id),
    arm           TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX experiment_rewards_experiment ON experiment_rewards (experiment_id, arm);
