-- Archive renewal (docs/archive-renewal.md): each licence's archived PDF extended with the
-- validation data of its last timestamp and a new document timestamp (PAdES B-LTA, ETSI EN
-- 319 142-1 §6.4). Generation 0 is the PDF in `certificates`, as issued; renewal N appends to
-- renewal N-1. Every version stays: each one verifies as the same licence.
-- Times are Unix milliseconds (UTC). (PostgreSQL's 0007 is the same with BYTEA for the bytes.)

CREATE TABLE archive_renewals (
    serial TEXT NOT NULL REFERENCES certificates (serial),
    -- 1, 2, 3, … per licence.
    generation BIGINT NOT NULL,
    renewed_at_ms BIGINT NOT NULL,
    -- The audit trail's name for who asked (`token:<id> (<name>, admin)`).
    renewed_by TEXT NOT NULL,
    -- Why, as the renewal run says (`older than 365 days`).
    reason TEXT NOT NULL,
    -- SHA-256 (lowercase hex) of the version this one extends, and of this one.
    base_sha256 TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    pdf BLOB NOT NULL,
    PRIMARY KEY (serial, generation)
);
CREATE INDEX archive_renewals_renewed_at ON archive_renewals (renewed_at_ms);
