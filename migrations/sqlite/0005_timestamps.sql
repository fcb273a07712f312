-- The built-in time-stamping authority (docs/tsa.md): every token it signs is recorded here,
-- durably, before it is signed. Times are Unix milliseconds (UTC).
-- (PostgreSQL's 0006 is this same file.)

-- The last serial and genTime given out: one row, advanced in the registry writer's
-- transaction (which holds the audit chain's head), so serials are unique and increasing and
-- genTime never goes back, across restarts and across instances sharing a database.
CREATE TABLE tsa_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_serial BIGINT NOT NULL,
    last_time_ms BIGINT NOT NULL
);
INSERT INTO tsa_head (id, last_serial, last_time_ms) VALUES (1, 0, 0);

CREATE TABLE timestamps (
    -- TSTInfo serialNumber (RFC 3161 §2.4.2).
    serial BIGINT PRIMARY KEY,
    -- TSTInfo genTime.
    time_ms BIGINT NOT NULL,
    -- The messageImprint: sha256, sha384 or sha512, and the hashed message in lowercase hex.
    hash_algorithm TEXT NOT NULL,
    hashed_message TEXT NOT NULL,
    -- The policy the token names (dotted OID).
    policy TEXT NOT NULL,
    -- 1 when the request carried a nonce (the nonce itself is not kept).
    nonce_present INTEGER NOT NULL,
    -- The client's address as the connection reported it.
    requester TEXT NOT NULL,
    -- SHA-256 (hex) of the TSA certificate that signs the token.
    tsa_certificate TEXT NOT NULL
);
