-- Scores (DESIGN.md §5): counts per (local day, agent, queue) cell that the scores API sums,
-- kept current incrementally. A run recomputes only the cells of surveys whose figures
-- changed since the last run, so its cost follows the changes, not the history.

-- Surveys whose figures may have changed since the last aggregation run. Append-only, with
-- no unique key: a trigger never waits on the aggregator's delete of an older row.
CREATE TABLE score_changes (
    survey_id bigint NOT NULL
);

CREATE FUNCTION postcall_score_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO score_changes (survey_id) VALUES (NEW.survey_id);
    RETURN NULL;
END $$;

-- A valid answer changes responses, csat, nps or fcr; a late one counts for nothing.
CREATE TRIGGER answers_score_changed AFTER INSERT ON answers
    FOR EACH ROW WHEN (NOT NEW.late) EXECUTE FUNCTION postcall_score_changed();

-- A message counts once the provider has accepted it (sent, segments) and again when it is
-- delivered; other status moves (pending ↔ sending, queued → sent) change no figure, so
-- they are not logged.
CREATE TRIGGER messages_score_changed AFTER UPDATE OF status ON messages
    FOR EACH ROW WHEN (NEW.survey_id IS NOT NULL AND (
        (OLD.status IN ('queued', 'sent', 'delivered', 'undelivered'))
            IS DISTINCT FROM (NEW.status IN ('queued', 'sent', 'delivered', 'undelivered'))
        OR (OLD.status = 'delivered') IS DISTINCT FROM (NEW.status = 'delivered')))
    EXECUTE FUNCTION postcall_score_changed();

-- One row per cell with at least one sent survey. Every column is an integer count or sum
-- (wait in milliseconds), so folding in changes and rebuilding give identical rows.
CREATE TABLE score_cells (
    day            date   NOT NULL,
    agent_id       text   NOT NULL,
    queue          text   NOT NULL,
    sent           bigint NOT NULL,
    delivered      bigint NOT NULL,
    responses      bigint NOT NULL,
    csat_n         bigint NOT NULL,
    csat_satisfied bigint NOT NULL,
    csat_sum       bigint NOT NULL,
    nps_n          bigint NOT NULL,
    promoters      bigint NOT NULL,
    passives       bigint NOT NULL,
    detractors     bigint NOT NULL,
    fcr_n          bigint NOT NULL,
    fcr_yes        bigint NOT NULL,
    wait_n         bigint NOT NULL,
    wait_ms_sum    bigint NOT NULL,
    sms_segments   bigint NOT NULL,
    PRIMARY KEY (day, agent_id, queue)
);

-- Recomputing a cell reads the calls of one agent and queue on one local day.
CREATE INDEX calls_cell_idx ON calls (agent_id, queue, ended_at);

-- What the cells were built with. A run under a different time zone or question mapping
-- rebuilds instead of mixing two definitions.
CREATE TABLE score_basis (
    id     boolean PRIMARY KEY DEFAULT true CHECK (id),
    basis  jsonb       NOT NULL,
    built_at timestamptz NOT NULL
);

-- Every aggregation run, for operators ("when were these scores computed?") and so that a
-- scheduled tick is aggregated once however many replicas wake for it.
CREATE TABLE score_runs (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text        NOT NULL CHECK (kind IN ('scheduled', 'manual', 'rebuild')),
    scheduled_for timestamptz UNIQUE,
    replica       text        NOT NULL,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz NOT NULL DEFAULT now(),
    changes       bigint      NOT NULL,
    surveys       bigint      NOT NULL,
    cells         bigint      NOT NULL
);

CREATE INDEX score_runs_finished_idx ON score_runs (finished_at);
