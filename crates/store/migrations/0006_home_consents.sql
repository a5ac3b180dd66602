-- Consents given at home (居宅同意取得型), through the portal with the card: the patient
-- lets one institution check their qualification for 訪問診療 (home visits) or オンライン
-- 診療 (online care). The institution finds them with a bulk search over the consent
-- dates (or, for online care, the examination dates). Conventions as in 0001.
CREATE TABLE home_consents (
    id               BIGINT PRIMARY KEY,
    person_id        BIGINT NOT NULL,
    institution_code TEXT NOT NULL,
    kind             TEXT NOT NULL,
    consented_at     BIGINT NOT NULL,
    examination_date BIGINT
);
CREATE INDEX home_consents_by_institution ON home_consents (institution_code, kind, consented_at);
CREATE INDEX home_consents_by_examination ON home_consents (institution_code, kind, examination_date);
CREATE INDEX home_consents_by_person ON home_consents (person_id, consented_at);
