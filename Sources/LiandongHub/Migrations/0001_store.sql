-- The hub's store: raw payloads, identity, entities, alternate values, links, quarantine,
-- cursors, sync runs. Audit lives in 0002.

-- Parses the hub's canonical time text (always ISO 8601 with an explicit offset). Declared
-- IMMUTABLE so generated columns can use it; that holds because the text always carries its zone.
CREATE FUNCTION hub_time(text) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT
    AS $$ SELECT $1::timestamptz $$;

CREATE FUNCTION hub_number(text) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT
    AS $$ SELECT $1::double precision $$;

CREATE TABLE raw_payload (
    id                bigserial PRIMARY KEY,
    sha256            bytea NOT NULL UNIQUE,
    source_system     text NOT NULL,
    stream            text NOT NULL,
    name              text NOT NULL,          -- page, file or message name as received
    content_type      text,
    declared_encoding text,
    detected_encoding text,
    body              bytea NOT NULL,
    received_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE xref (
    source_system text NOT NULL,
    external_id   text NOT NULL,
    entity_kind   text NOT NULL,
    entity_id     uuid NOT NULL,
    PRIMARY KEY (source_system, external_id)
);
CREATE INDEX xref_entity ON xref (entity_id);

-- Columns every entity table shares; typed columns are generated from data for admins and rules.
CREATE TABLE work_order (
    id              uuid PRIMARY KEY,
    source_system   text NOT NULL,
    external_id     text NOT NULL,
    version         integer NOT NULL,
    source_time     timestamptz NOT NULL,
    content_hash    bytea NOT NULL,
    data            jsonb NOT NULL,
    mapping         text NOT NULL,
    mapping_version integer NOT NULL,
    raw_payload_id  bigint REFERENCES raw_payload (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    status          text GENERATED ALWAYS AS (data ->> 'status') STORED,
    appeal_type     text GENERATED ALWAYS AS (data ->> 'appeal_type') STORED,
    matter          text GENERATED ALWAYS AS (data ->> 'matter') STORED,
    division_code   text GENERATED ALWAYS AS (data ->> 'division_code') STORED,
    reported_at     timestamptz GENERATED ALWAYS AS (hub_time(data ->> 'reported_at')) STORED,
    deadline        timestamptz GENERATED ALWAYS AS (hub_time(data ->> 'deadline')) STORED,
    lat             double precision GENERATED ALWAYS AS (hub_number(data -> 'location' ->> 'lat')) STORED,
    lon             double precision GENERATED ALWAYS AS (hub_number(data -> 'location' ->> 'lon')) STORED,
    UNIQUE (source_system, external_id)
);
CREATE INDEX work_order_status ON work_order (status);

CREATE TABLE fire_alarm (
    id              uuid PRIMARY KEY,
    source_system   text NOT NULL,
    external_id     text NOT NULL,
    version         integer NOT NULL,
    source_time     timestamptz NOT NULL,
    content_hash    bytea NOT NULL,
    data            jsonb NOT NULL,
    mapping         text NOT NULL,
    mapping_version integer NOT NULL,
    raw_payload_id  bigint REFERENCES raw_payload (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    task_type       text GENERATED ALWAYS AS (data ->> 'task_type') STORED,
    stage           text GENERATED ALWAYS AS (CASE WHEN data -> 'timeline' ? 'returned_at' THEN 'returned' WHEN data -> 'timeline' ? 'extinguished_at' THEN 'extinguished' WHEN data -> 'timeline' ? 'controlled_at' THEN 'controlled' WHEN data -> 'timeline' ? 'arrived_at' THEN 'arrived' WHEN data -> 'timeline' ? 'dispatched_at' THEN 'dispatched' ELSE 'received' END) STORED,
    division_code   text GENERATED ALWAYS AS (data ->> 'division_code') STORED,
    alarm_time      timestamptz GENERATED ALWAYS AS (hub_time(data ->> 'alarm_time')) STORED,
    lat             double precision GENERATED ALWAYS AS (hub_number(data -> 'location' ->> 'lat')) STORED,
    lon             double precision GENERATED ALWAYS AS (hub_number(data -> 'location' ->> 'lon')) STORED,
    UNIQUE (source_system, external_id)
);

CREATE TABLE warning (
    id              uuid PRIMARY KEY,
    source_system   text NOT NULL,
    external_id     text NOT NULL,
    version         integer NOT NULL,
    source_time     timestamptz NOT NULL,
    content_hash    bytea NOT NULL,
    data            jsonb NOT NULL,
    mapping         text NOT NULL,
    mapping_version integer NOT NULL,
    raw_payload_id  bigint REFERENCES raw_payload (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    sender          text GENERATED ALWAYS AS (data ->> 'sender') STORED,
    msg_type        text GENERATED ALWAYS AS (data ->> 'msg_type') STORED,
    status          text GENERATED ALWAYS AS (data ->> 'status') STORED,
    colour          text GENERATED ALWAYS AS (data ->> 'colour') STORED,
    event_code      text GENERATED ALWAYS AS (data ->> 'event_code') STORED,
    division_code   text GENERATED ALWAYS AS (data ->> 'division_code') STORED,
    sent            timestamptz GENERATED ALWAYS AS (hub_time(data ->> 'sent')) STORED,
    expires         timestamptz GENERATED ALWAYS AS (hub_time(data ->> 'expires')) STORED,
    UNIQUE (source_system, external_id)
);

-- Every value that lost: replaced by a newer source version, or arriving older than the current one.
CREATE TABLE alternate_value (
    id            bigserial PRIMARY KEY,
    entity_kind   text NOT NULL,
    entity_id     uuid NOT NULL,
    field         text NOT NULL,
    value         jsonb NOT NULL,
    source_system text NOT NULL,
    source_time   timestamptz NOT NULL,
    mapping       text NOT NULL,
    reason        text NOT NULL,   -- replaced | older
    recorded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alternate_value_entity ON alternate_value (entity_id);

-- References between records: CAP supersession now; same-incident links and transfers later.
-- The target is named by its source and external id so a reference may arrive before its target.
CREATE TABLE entity_link (
    id                 bigserial PRIMARY KEY,
    from_kind          text NOT NULL,
    from_entity        uuid NOT NULL,
    link_type          text NOT NULL,
    target_source      text NOT NULL,
    target_external_id text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (from_entity, link_type, target_source, target_external_id)
);
CREATE INDEX entity_link_target ON entity_link (target_source, target_external_id);

CREATE TABLE mapping_failure (
    id              bigserial PRIMARY KEY,
    raw_payload_id  bigint NOT NULL REFERENCES raw_payload (id),
    record_index    integer NOT NULL,        -- -1: the whole document
    source_system   text NOT NULL,
    stream          text NOT NULL,
    external_id     text,
    mapping         text NOT NULL,
    mapping_version integer NOT NULL,
    failures        jsonb NOT NULL,          -- [{path, rule, value, message}]
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'replayed', 'ignored')),
    decision_reason text,
    first_seen      timestamptz NOT NULL DEFAULT now(),
    last_seen       timestamptz NOT NULL DEFAULT now(),
    seen_count      integer NOT NULL DEFAULT 1,
    UNIQUE (raw_payload_id, record_index)
);
CREATE INDEX mapping_failure_open ON mapping_failure (status, source_system);

CREATE TABLE stream_cursor (
    source_system text NOT NULL,
    stream        text NOT NULL,
    cursor        text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source_system, stream)
);

CREATE TABLE sync_run (
    id            bigserial PRIMARY KEY,
    source_system text NOT NULL,
    stream        text NOT NULL,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz,
    pulled        integer NOT NULL DEFAULT 0,
    unchanged     integer NOT NULL DEFAULT 0,
    inserted      integer NOT NULL DEFAULT 0,
    updated       integer NOT NULL DEFAULT 0,
    older         integer NOT NULL DEFAULT 0,
    linked        integer NOT NULL DEFAULT 0,
    failures      integer NOT NULL DEFAULT 0,
    batches       integer NOT NULL DEFAULT 0,
    error         text
);
