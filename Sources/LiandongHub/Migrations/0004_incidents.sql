-- Incidents: 110 police tickets and 120 ambulance calls as reports beside 12345 work orders and 119
-- alarms; the incident over them; how each report was linked; losing values; link candidates and
-- conflicts for people; and the admins' decisions, which every recompute and rebuild honours.

CREATE TABLE police_ticket (
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
    category        text GENERATED ALWAYS AS (data ->> 'category') STORED,
    status          text GENERATED ALWAYS AS (data ->> 'status') STORED,
    handling_unit   text GENERATED ALWAYS AS (data ->> 'handling_unit') STORED,
    division_code   text GENERATED ALWAYS AS (data ->> 'division_code') STORED,
    reported_at     timestamptz GENERATED ALWAYS AS (hub_time(data ->> 'reported_at')) STORED,
    lat             double precision GENERATED ALWAYS AS (hub_number(data -> 'location' ->> 'lat')) STORED,
    lon             double precision GENERATED ALWAYS AS (hub_number(data -> 'location' ->> 'lon')) STORED,
    UNIQUE (source_system, external_id)
);

CREATE TABLE ambulance_call (
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
    triage_level    text GENERATED ALWAYS AS (data ->> 'triage_level') STORED,
    status          text GENERATED ALWAYS AS (data ->> 'status') STORED,
    hospital        text GENERATED ALWAYS AS (data ->> 'hospital') STORED,
    division_code   text GENERATED ALWAYS AS (data ->> 'division_code') STORED,
    reported_at     timestamptz GENERATED ALWAYS AS (hub_time(data ->> 'reported_at')) STORED,
    lat             double precision GENERATED ALWAYS AS (hub_number(data -> 'location' ->> 'lat')) STORED,
    lon             double precision GENERATED ALWAYS AS (hub_number(data -> 'location' ->> 'lon')) STORED,
    UNIQUE (source_system, external_id)
);

-- Identity resolution looks for reports near in time: by the time the authority policy reads
-- (reported_at; alarm_time for 119).
CREATE INDEX work_order_report_time ON work_order (hub_time(data ->> 'reported_at'));
CREATE INDEX fire_alarm_report_time ON fire_alarm (hub_time(data ->> 'alarm_time'));
CREATE INDEX police_ticket_report_time ON police_ticket (hub_time(data ->> 'reported_at'));
CREATE INDEX ambulance_call_report_time ON ambulance_call (hub_time(data ->> 'reported_at'));

-- The mapping a payload was read with, so that a rebuild reads it the same way.
ALTER TABLE raw_payload ADD COLUMN mapping text;

-- The umbrella over every report of one event. data holds the decided fields; provenance where each
-- came from ({field: {source, report, source_time, rule}}). A merged incident keeps its row and names
-- the incident it went into.
CREATE TABLE incident (
    id             uuid PRIMARY KEY,
    no             bigserial UNIQUE,
    version        integer NOT NULL,
    data           jsonb NOT NULL,
    provenance     jsonb NOT NULL,
    content_hash   bytea NOT NULL,
    merged_into    uuid REFERENCES incident (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    category       text GENERATED ALWAYS AS (data ->> 'category') STORED,
    incident_type  text GENERATED ALWAYS AS (data ->> 'incident_type') STORED,
    event_code     text GENERATED ALWAYS AS (data ->> 'event_code') STORED,
    grade          text GENERATED ALWAYS AS (data ->> 'grade') STORED,
    response_level text GENERATED ALWAYS AS (data ->> 'response_level') STORED,
    status         text GENERATED ALWAYS AS (data ->> 'status') STORED,
    division_code  text GENERATED ALWAYS AS (data ->> 'division_code') STORED,
    reported_at    timestamptz GENERATED ALWAYS AS (hub_time(data ->> 'reported_at')) STORED,
    lat            double precision GENERATED ALWAYS AS (hub_number(data -> 'location' ->> 'lat')) STORED,
    lon            double precision GENERATED ALWAYS AS (hub_number(data -> 'location' ->> 'lon')) STORED
);
CREATE INDEX incident_reported_at ON incident (reported_at) WHERE merged_into IS NULL;

-- Which incident each report belongs to, and why: new, explicit:<link type>, match, merge, split.
CREATE TABLE incident_report (
    report_id   uuid PRIMARY KEY,
    report_kind text NOT NULL,
    incident_id uuid NOT NULL REFERENCES incident (id),
    reason      text NOT NULL,
    score       jsonb,
    linked_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incident_report_incident ON incident_report (incident_id);

-- Values that lost the authority merge, recomputed with the incident.
CREATE TABLE incident_alternate (
    incident_id   uuid NOT NULL REFERENCES incident (id),
    field         text NOT NULL,
    value         jsonb NOT NULL,
    source_system text NOT NULL,
    report        text NOT NULL,
    source_time   timestamptz NOT NULL,
    reason        text NOT NULL
);
CREATE INDEX incident_alternate_incident ON incident_alternate (incident_id);

-- A match between the two thresholds: a person decides.
CREATE TABLE link_candidate (
    id          bigserial PRIMARY KEY,
    report_id   uuid NOT NULL,
    report_kind text NOT NULL,
    incident_id uuid NOT NULL REFERENCES incident (id),
    score       jsonb NOT NULL,
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'rejected')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    decided_at  timestamptz,
    UNIQUE (report_id, incident_id)
);

-- Equal authorities disagreeing on a field the policy sends to review. key identifies the exact
-- disagreement (field, reports, values); a new value makes a new conflict and supersedes the old.
CREATE TABLE conflict (
    id          bigserial PRIMARY KEY,
    incident_id uuid NOT NULL REFERENCES incident (id),
    field       text NOT NULL,
    key         text NOT NULL,
    candidates  jsonb NOT NULL,
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'superseded')),
    resolution  jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    decided_at  timestamptz,
    UNIQUE (incident_id, key)
);

-- Pairs of reports (source:external_id, a < b) a person put together (a merge, an accepted candidate)
-- or apart (a split, a rejected candidate). Identity resolution honours them on every recompute and
-- rebuild; a later decision on the same pair replaces the earlier.
CREATE TABLE identity_constraint (
    a          text NOT NULL,
    b          text NOT NULL,
    together   boolean NOT NULL,
    decided_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (a, b),
    CHECK (a < b)
);

-- The value a person chose for a conflict, by the conflict's key (field, reports, values).
CREATE TABLE conflict_choice (
    key        text PRIMARY KEY,
    value      jsonb NOT NULL,
    decided_at timestamptz NOT NULL DEFAULT now()
);
