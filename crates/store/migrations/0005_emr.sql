-- What the EMR interface keeps at the center. Conventions as in 0001: BIGINT integers,
-- dates as yyyymmdd, instants as microseconds since the Unix epoch, ids from the
-- application.

-- 照会番号: the clinic's own id for a patient, registered by OQSsiimm01 (or the JSON API)
-- and returned with that institution's later results for the person. One per
-- (institution, person); a new registration replaces the old one.
CREATE TABLE reference_numbers (
    institution_code TEXT NOT NULL,
    person_id        BIGINT NOT NULL,
    reference_number TEXT NOT NULL,
    record_id        BIGINT NOT NULL,
    registered_at    BIGINT NOT NULL,
    PRIMARY KEY (institution_code, person_id)
);

-- 一括照会 (OQSmuquc01/02): a bulk request is stored before it is acknowledged, answered
-- by the center's worker, and fetched by its reception number. `status` is 'processing'
-- until `results` (JSON, one entry per query in the order of the request) is written with
-- 'done' in the same statement; a center that restarts picks up every 'processing' row.
CREATE TABLE bulk_checks (
    reception_number TEXT PRIMARY KEY,
    institution_code TEXT NOT NULL,
    submitted_at     BIGINT NOT NULL,
    as_of            BIGINT NOT NULL,
    query_count      BIGINT NOT NULL,
    queries          TEXT NOT NULL,
    status           TEXT NOT NULL,
    results          TEXT,
    finished_at      BIGINT
);
CREATE INDEX bulk_checks_by_status ON bulk_checks (status, submitted_at);
