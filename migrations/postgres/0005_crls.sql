-- Certificate revocation lists the bureau publishes (docs/revocation.md). The newest per issuer
-- is served at /crl/{issuer}.crl and honoured by verification; older ones stay as the record.
-- Times are Unix milliseconds (UTC). (SQLite's 0004 is the same with BLOB for the bytes.)

CREATE TABLE crls (
    -- The issuing root's subject key identifier, lowercase hex.
    issuer TEXT NOT NULL,
    -- The CRL number (RFC 5280 §5.2.3) as 40 hex digits: text order is number order.
    number TEXT NOT NULL,
    this_update_ms BIGINT NOT NULL,
    next_update_ms BIGINT NOT NULL,
    der BYTEA NOT NULL,
    sha256 TEXT NOT NULL,
    published_at_ms BIGINT NOT NULL,
    published_by TEXT NOT NULL,
    PRIMARY KEY (issuer, number)
);
