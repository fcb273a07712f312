-- Seal rotation (issue 7): every seal ever in service, and which one signed each certificate.
-- The seal in service is the one with the highest generation; a retired seal never returns.

CREATE TABLE seals (
    fingerprint TEXT PRIMARY KEY,
    generation BIGINT NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    certificate_serial TEXT NOT NULL,
    not_after_ms BIGINT NOT NULL,
    chain_pem TEXT NOT NULL,
    location TEXT NOT NULL,
    custody TEXT NOT NULL,
    activated_at_ms BIGINT NOT NULL,
    activated_by TEXT NOT NULL,
    retired_at_ms BIGINT
);

ALTER TABLE certificates ADD COLUMN seal_fingerprint TEXT;
