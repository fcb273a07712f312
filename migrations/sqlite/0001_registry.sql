-- The registry (docs/architecture.md): tokens, templates, certificates and the audit chain.
-- Times are Unix milliseconds (UTC); hashes are lower-case hex.

CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    length BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, length, hash)
    VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE audit (
    sequence BIGINT PRIMARY KEY,
    time_ms BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    details TEXT NOT NULL,
    previous_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_subject ON audit (subject);

CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    department TEXT,
    secret_hash BLOB NOT NULL,
    created_at_ms BIGINT NOT NULL,
    revoked_at_ms BIGINT
);

CREATE TABLE templates (
    id TEXT NOT NULL,
    version BIGINT NOT NULL,
    status TEXT NOT NULL,
    title TEXT NOT NULL,
    department TEXT NOT NULL,
    label TEXT NOT NULL,
    submitted_by TEXT NOT NULL,
    submitted_at_ms BIGINT NOT NULL,
    decided_by TEXT,
    decided_at_ms BIGINT,
    blank BLOB NOT NULL,
    manifest BLOB NOT NULL,
    example BLOB NOT NULL,
    PRIMARY KEY (id, version)
);

CREATE TABLE certificates (
    serial TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    template_id TEXT NOT NULL,
    template_version BIGINT NOT NULL,
    template_title TEXT NOT NULL,
    data TEXT NOT NULL,
    holder TEXT NOT NULL,
    credit_code TEXT,
    delivery TEXT NOT NULL,
    issuer TEXT NOT NULL,
    issued_at_ms BIGINT NOT NULL,
    sha256 TEXT,
    pdf BLOB,
    revoked_at_ms BIGINT,
    revoked_by TEXT,
    revocation_reason TEXT
);
CREATE INDEX certificates_sha256 ON certificates (sha256);
CREATE INDEX certificates_holder ON certificates (holder);
CREATE INDEX certificates_credit_code ON certificates (credit_code);
CREATE INDEX certificates_template ON certificates (template_id, issued_at_ms);
CREATE INDEX certificates_issued_at ON certificates (issued_at_ms);
