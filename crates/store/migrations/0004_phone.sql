-- Smartphone credentials (スマホ用電子証明書, and on iPhone the card substitute record) and
-- the queue of their issuance jobs. Conventions as in 0001: BIGINT integers, instants as
-- microseconds, ids from the application, binary values as lower-case hex TEXT.

-- One row per set-up request (マイナポータル app). A credential hangs on the card's
-- user-authentication certificate it was requested with and ends with it.
CREATE TABLE phone_credentials (
    id                  BIGINT PRIMARY KEY,
    person_id           BIGINT NOT NULL,
    platform            TEXT NOT NULL,        -- android | iphone
    model               TEXT NOT NULL,
    os_version          TEXT NOT NULL,
    card_fingerprint    TEXT NOT NULL,        -- card_certificates.fingerprint
    card_not_after      BIGINT NOT NULL,      -- the credential stops here (no grace)
    auth_spki           TEXT NOT NULL,        -- the phone's public keys (DER, hex)
    signing_spki        TEXT NOT NULL,
    device_key          TEXT,                 -- mdoc device key (iPhone), DER hex
    portrait            TEXT,                 -- face photo for the mdoc (iPhone), hex
    token_sha256        TEXT NOT NULL,        -- hash of the phone's bearer token
    state               TEXT NOT NULL,        -- pending | issued | suspended | revoked | failed
    auth_fingerprint    TEXT,
    signing_fingerprint TEXT,
    auth_cert           TEXT,
    signing_cert        TEXT,
    mdoc                TEXT,
    requested_at        BIGINT NOT NULL,
    issued_at           BIGINT,
    ended_at            BIGINT,
    end_reason          TEXT,
    changed_at          BIGINT NOT NULL
);
CREATE INDEX phone_credentials_by_person ON phone_credentials (person_id, requested_at);
CREATE INDEX phone_credentials_by_card ON phone_credentials (card_fingerprint);
CREATE UNIQUE INDEX phone_credentials_by_auth ON phone_credentials (auth_fingerprint);

-- Issuance jobs: queued until run_after, then claimed by one worker under a lease
-- (claimed_until); a worker that dies leaves a running job whose lease expires and which
-- another worker claims again. Completion is guarded by the claim token.
CREATE TABLE phone_jobs (
    id            BIGINT PRIMARY KEY,
    credential_id BIGINT NOT NULL,
    state         TEXT NOT NULL,              -- queued | running | done | failed
    run_after     BIGINT NOT NULL,
    attempts      BIGINT NOT NULL DEFAULT 0,
    claimed_by    TEXT,
    claimed_until BIGINT,
    finished_at   BIGINT,
    error         TEXT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX phone_jobs_by_due ON phone_jobs (state, run_after);
CREATE INDEX phone_jobs_by_credential ON phone_jobs (credential_id);
