-- Medical histories (薬剤情報, 特定健診等情報, 診療情報, 手術情報) and the record of every
-- view of them. Conventions as in 0001: BIGINT integers, dates as yyyymmdd, instants as
-- microseconds since the Unix epoch, ids from the application. Loaded rows take the id
-- person_id * 10000 + ordinal, so a reload of the same nation never collides; decimal
-- values are stored in tenths (column suffix _x10). Every table is keyed by person_id and
-- indexed by (person_id, date), so a sharded PostgreSQL can distribute it by person.

CREATE TABLE medication_dispenses (
    id            BIGINT PRIMARY KEY,
    person_id     BIGINT NOT NULL,
    dispensed_on  BIGINT NOT NULL,
    drug_code     TEXT NOT NULL,
    drug_name     TEXT NOT NULL,
    dose          TEXT NOT NULL,
    quantity_x10  BIGINT NOT NULL,
    unit          TEXT NOT NULL,
    days_supplied BIGINT NOT NULL,
    prescriber    TEXT NOT NULL,
    pharmacy      TEXT NOT NULL
);
CREATE INDEX medication_dispenses_by_person ON medication_dispenses (person_id, dispensed_on);

CREATE TABLE checkups (
    id                   BIGINT PRIMARY KEY,
    person_id            BIGINT NOT NULL,
    performed_on         BIGINT NOT NULL,
    kind                 TEXT NOT NULL,
    institution_code     TEXT NOT NULL,
    height_cm_x10        BIGINT NOT NULL,
    weight_kg_x10        BIGINT NOT NULL,
    bmi_x10              BIGINT NOT NULL,
    waist_cm_x10         BIGINT NOT NULL,
    systolic_mmhg        BIGINT NOT NULL,
    diastolic_mmhg       BIGINT NOT NULL,
    hba1c_percent_x10    BIGINT NOT NULL,
    fasting_glucose_mg_dl BIGINT NOT NULL,
    ldl_mg_dl            BIGINT NOT NULL,
    hdl_mg_dl            BIGINT NOT NULL,
    triglycerides_mg_dl  BIGINT NOT NULL,
    ast_u_l              BIGINT NOT NULL,
    alt_u_l              BIGINT NOT NULL,
    ggt_u_l              BIGINT NOT NULL,
    urine_protein        TEXT NOT NULL,
    urine_glucose        TEXT NOT NULL
);
CREATE INDEX checkups_by_person ON checkups (person_id, performed_on);

CREATE TABLE diagnoses (
    id               BIGINT PRIMARY KEY,
    person_id        BIGINT NOT NULL,
    started_on       BIGINT NOT NULL,
    icd10            TEXT NOT NULL,
    name             TEXT NOT NULL,
    outcome          TEXT NOT NULL,
    ended_on         BIGINT,
    institution_code TEXT NOT NULL
);
CREATE INDEX diagnoses_by_person ON diagnoses (person_id, started_on);

CREATE TABLE surgeries (
    id               BIGINT PRIMARY KEY,
    person_id        BIGINT NOT NULL,
    performed_on     BIGINT NOT NULL,
    code             TEXT NOT NULL,
    name             TEXT NOT NULL,
    institution_code TEXT NOT NULL
);
CREATE INDEX surgeries_by_person ON surgeries (person_id, performed_on);

-- Every view of a history by an institution: which kind (ConsentKind code), under which
-- reception, and how many rows were shown.
CREATE TABLE history_views (
    id               BIGINT PRIMARY KEY,
    at               BIGINT NOT NULL,
    person_id        BIGINT NOT NULL,
    institution_code TEXT NOT NULL,
    kind             TEXT NOT NULL,
    reception_id     BIGINT NOT NULL,
    row_count        BIGINT NOT NULL
);
CREATE INDEX history_views_by_person ON history_views (person_id, at);
