-- The admin console and its API: users with their grants, sessions, API tokens, bulk jobs.

-- A local user. grants: ["operator", "viewer@fire-119", "personal_data@ambulance-120"].
-- Failed logins lock the user for a while (locked_until); the count resets on success.
CREATE TABLE console_user (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    grants        jsonb NOT NULL DEFAULT '[]',
    disabled      boolean NOT NULL DEFAULT false,
    failed_logins integer NOT NULL DEFAULT 0,
    locked_until  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz
);

-- A signed-in browser. Only the SHA-256 of the cookie's token is kept; the CSRF token is the one
-- every form of the session carries. A session idle longer than the configured timeout is refused
-- and deleted.
CREATE TABLE console_session (
    token_hash   bytea PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES console_user (id) ON DELETE CASCADE,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX console_session_user ON console_session (user_id);

-- A script's bearer token, shown once; only its SHA-256 is kept.
CREATE TABLE api_token (
    id           bigserial PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES console_user (id) ON DELETE CASCADE,
    name         text NOT NULL,
    token_hash   bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

-- A bulk action (replay or ignore of every failure matching a filter, retry of every dead delivery
-- matching one), capped, with its progress.
CREATE TABLE console_job (
    id           bigserial PRIMARY KEY,
    action       text NOT NULL,
    filter       text NOT NULL,
    requested_by text NOT NULL,
    reason       text NOT NULL,
    total        integer NOT NULL,
    done         integer NOT NULL DEFAULT 0,
    failed       integer NOT NULL DEFAULT 0,
    status       text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'finished', 'failed')),
    error        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);

-- The job a failure was replayed or ignored by, if any: a replay keeps its link to the failure.
ALTER TABLE mapping_failure ADD COLUMN decided_by text, ADD COLUMN decided_at timestamptz, ADD COLUMN job_id bigint;

-- What the overview counts, each through a partial index of the rows still waiting: open conflicts,
-- transfers not returned and not answered, instruction receipts without feedback, call-outs not
-- acknowledged.
CREATE INDEX conflict_open ON conflict (incident_id) WHERE status = 'open';
CREATE INDEX transfer_waiting ON transfer (accept_deadline, feedback_deadline) WHERE returned_at IS NULL AND feedback IS NULL;
CREATE INDEX instruction_receipt_waiting ON instruction_receipt (feedback_deadline) WHERE feedback IS NULL;
CREATE INDEX callout_waiting ON callout (id) WHERE acknowledged_at IS NULL;

-- The admin actions (`by` in their body) listed by the console's audit page, without a scan of
-- the whole chain: a partial index on the actions an admin takes.
CREATE INDEX audit_entry_decision ON audit_entry (seq) WHERE action IN (
    'ignore', 'replay', 'replay_failed', 'delivery.retry', 'incident.split', 'incident.merge', 'candidate.accept',
    'candidate.reject', 'conflict.resolve', 'stream.pause', 'stream.resume', 'user.create', 'user.update',
    'token.create', 'token.revoke', 'job.start');

-- A stream's lag without reading every entity table: the newest source time each run saw, and the
-- newest a stream has seen. Runs by start time for the overview's charts.
ALTER TABLE sync_run ADD COLUMN newest_source_time timestamptz;
ALTER TABLE stream_state ADD COLUMN newest_source_time timestamptz;
CREATE INDEX sync_run_started ON sync_run (started_at);

-- Deliveries not delivered, by status and receiver, for the console's lists and counts.
CREATE INDEX outbox_undelivered ON outbox (status, target, id) WHERE status <> 'delivered';

-- The console's incident search by any part of an address, without reading every incident:
-- trigrams (pg_trgm, a trusted extension shipped with PostgreSQL since 13).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX incident_address_trgm ON incident USING gin ((data ->> 'address') gin_trgm_ops) WHERE merged_into IS NULL;
