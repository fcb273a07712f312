-- Issue 6: issuance requests with parallel department sign-off, committed time limits,
-- 容缺后补 commitments, the dishonesty list, the results feed and its webhook subscribers.
-- Times are Unix milliseconds (UTC); dates are the bureau's calendar days, YYYY-MM-DD.
-- Portable SQL: migrations/postgres/0003_approval.sql is a link to this file.

CREATE TABLE requests (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    template_id TEXT NOT NULL,
    template_version BIGINT NOT NULL,
    template_title TEXT NOT NULL,
    department TEXT NOT NULL,
    seal_mode TEXT NOT NULL,
    data TEXT NOT NULL,
    holder TEXT NOT NULL,
    credit_code TEXT,
    delivery TEXT NOT NULL,
    opened_by TEXT NOT NULL,
    opened_by_token TEXT NOT NULL,
    opened_by_name TEXT NOT NULL,
    opened_at_ms BIGINT NOT NULL,
    time_limit_days BIGINT NOT NULL,
    deadline_ms BIGINT NOT NULL,
    missing_materials TEXT NOT NULL,
    commitment TEXT,
    supply_deadline_ms BIGINT,
    serial TEXT,
    closed_at_ms BIGINT,
    closed_by TEXT,
    overdue_at_ms BIGINT
);
CREATE INDEX requests_status ON requests (status, deadline_ms);
CREATE INDEX requests_opened ON requests (opened_at_ms);
CREATE INDEX requests_template ON requests (template_id, opened_at_ms);

CREATE TABLE sign_offs (
    request_id TEXT NOT NULL,
    department TEXT NOT NULL,
    decision TEXT NOT NULL,
    reviewer TEXT,
    reviewer_token TEXT,
    comment TEXT,
    decided_at_ms BIGINT,
    PRIMARY KEY (request_id, department)
);
CREATE INDEX sign_offs_department ON sign_offs (department, decision);

CREATE TABLE commitments (
    serial TEXT PRIMARY KEY,
    request_id TEXT NOT NULL,
    credit_code TEXT NOT NULL,
    holder TEXT NOT NULL,
    materials TEXT NOT NULL,
    commitment TEXT NOT NULL,
    deadline_ms BIGINT NOT NULL,
    supplied TEXT NOT NULL,
    supplied_at_ms BIGINT,
    missed_at_ms BIGINT,
    departments TEXT NOT NULL
);
CREATE INDEX commitments_open ON commitments (supplied_at_ms, missed_at_ms, deadline_ms);
CREATE INDEX commitments_credit_code ON commitments (credit_code);

CREATE TABLE calendar_days (
    day TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at_ms BIGINT NOT NULL
);

CREATE TABLE blacklist (
    id TEXT PRIMARY KEY,
    credit_code TEXT NOT NULL,
    name TEXT NOT NULL,
    reason TEXT NOT NULL,
    listed_from TEXT NOT NULL,
    listed_until TEXT,
    added_by TEXT NOT NULL,
    added_at_ms BIGINT NOT NULL,
    removed_at_ms BIGINT,
    removed_by TEXT,
    removal_reason TEXT
);
CREATE INDEX blacklist_credit_code ON blacklist (credit_code);

-- The results feed: one row per event, numbered by the audit entry written with it, so the feed
-- is gap-free and in commit order even with several instances (the chain head serialises them).
CREATE TABLE events (
    sequence BIGINT PRIMARY KEY,
    time_ms BIGINT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    departments TEXT NOT NULL,
    payload TEXT NOT NULL
);

-- Webhook subscribers: `kinds` as `|kind1|kind2|`; `department`, when set, limits a subscriber
-- to the events that concern it. `delivered_through` is the durable cursor (at least once);
-- the lease lets one of several instances deliver to a subscriber at a time.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    kinds TEXT NOT NULL,
    department TEXT,
    created_by TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    removed_at_ms BIGINT,
    delivered_through BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_ms BIGINT NOT NULL,
    last_error TEXT,
    last_delivered_ms BIGINT,
    lease_owner TEXT,
    lease_until_ms BIGINT
);

ALTER TABLE certificates ADD COLUMN request_id TEXT;
ALTER TABLE certificates ADD COLUMN sign_offs TEXT;
ALTER TABLE certificates ADD COLUMN departments TEXT;
