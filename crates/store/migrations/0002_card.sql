-- The card path: which certificate belongs to whom, the enrolled terminals, single-use
-- challenges, consents given at the reader, and the center's own settings.

-- User-authentication certificates issued by J-LIS (cards and phones), linked to persons.
CREATE TABLE card_certificates (
    fingerprint       TEXT PRIMARY KEY,      -- hex SHA-256 of the DER
    issuer            TEXT NOT NULL,         -- CA label (card_auth, phone_auth, …)
    serial            TEXT NOT NULL,         -- hex
    person_id         BIGINT NOT NULL,
    issued_at         BIGINT NOT NULL,
    not_after         BIGINT NOT NULL,
    revoked_at        BIGINT,
    revocation_reason TEXT,
    changed_at        BIGINT NOT NULL        -- last insert or revocation, for incremental reloads
);
CREATE UNIQUE INDEX card_certificates_by_serial ON card_certificates (issuer, serial);
CREATE INDEX card_certificates_by_person ON card_certificates (person_id);
CREATE INDEX card_certificates_by_change ON card_certificates (changed_at);

-- Clinic terminals enrolled with the center (their TLS client certificates).
CREATE TABLE terminals (
    fingerprint      TEXT PRIMARY KEY,
    institution_code TEXT NOT NULL,
    terminal_id      TEXT NOT NULL,
    serial           TEXT NOT NULL,
    enrolled_at      BIGINT NOT NULL,
    revoked_at       BIGINT,
    changed_at       BIGINT NOT NULL
);
CREATE INDEX terminals_by_institution ON terminals (institution_code, terminal_id);
CREATE INDEX terminals_by_change ON terminals (changed_at);

-- Challenges spent: a challenge is accepted once; rows past expiry are purged.
CREATE TABLE used_challenges (
    nonce      TEXT PRIMARY KEY,
    used_at    BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX used_challenges_by_expiry ON used_challenges (expires_at);

-- Consents given at the reader: this institution may view this kind for this reception
-- until available_until (24 h).
CREATE TABLE consents (
    id               BIGINT PRIMARY KEY,
    reception_id     BIGINT NOT NULL,
    person_id        BIGINT NOT NULL,
    institution_code TEXT NOT NULL,
    kind             TEXT NOT NULL,
    consented_at     BIGINT NOT NULL,
    available_until  BIGINT NOT NULL
);
CREATE INDEX consents_by_reception ON consents (reception_id, kind);
CREATE INDEX consents_by_person ON consents (person_id, consented_at);

-- Settings shared by every center process (the challenge key among them).
CREATE TABLE center_settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
