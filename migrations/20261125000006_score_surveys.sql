-- Scores per survey: each sent survey's counted figures, with the cell it counts in. An
-- incremental run recomputes only the changed surveys' rows, then re-sums just their cells
-- from this table, instead of recounting every survey of every touched cell from answers and
-- messages (8.8 surveys recounted per survey changed with 10 M answers stored).
--
-- Derived data, read only by the aggregator under its lock: a rebuild may replace the whole
-- table in its transaction. Every column is a plain count or flag, so a cell's sums are the
-- same whichever run wrote its surveys' rows.
CREATE TABLE score_surveys (
    survey_id bigint   PRIMARY KEY,
    day       date     NOT NULL,
    agent_id  text     NOT NULL,
    queue     text     NOT NULL,
    delivered boolean  NOT NULL,
    responded boolean  NOT NULL,
    csat      smallint,
    nps       smallint,
    fcr       boolean,
    wait_ms   bigint,
    segments  bigint   NOT NULL
);

-- Re-summing a cell reads its surveys' rows.
CREATE INDEX score_surveys_cell_idx ON score_surveys (day, agent_id, queue);
