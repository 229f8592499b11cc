-- The emergency bureau (应急管理局) as a source: its reports of emergencies (a report kind, linked to
-- incidents like the agencies reports), its instructions (指令) to named agencies, the replies of
-- those agencies (签收 acknowledgement, 反馈 feedback) and its resource registers. See docs/sharing.md.

CREATE TABLE bureau_incident (
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
    grade           text GENERATED ALWAYS AS (data ->> 'grade') STORED,
    response_level  text GENERATED ALWAYS AS (data ->> 'response_level') STORED,
    report_stage    text GENERATED ALWAYS AS (data ->> 'report_stage') STORED,
    division_code   text GENERATED ALWAYS AS (data ->> 'division_code') STORED,
    reported_at     timestamptz GENERATED ALWAYS AS (hub_time(data ->> 'reported_at')) STORED,
    lat             double precision GENERATED ALWAYS AS (hub_number(data -> 'location' ->> 'lat')) STORED,
    lon             double precision GENERATED ALWAYS AS (hub_number(data -> 'location' ->> 'lon')) STORED,
    UNIQUE (source_system, external_id)
);
CREATE INDEX bureau_incident_report_time ON bureau_incident (hub_time(data ->> 'reported_at'));

CREATE TABLE instruction (
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
    incident_no     text GENERATED ALWAYS AS (data ->> 'incident_no') STORED,
    issued_at       timestamptz GENERATED ALWAYS AS (hub_time(data ->> 'issued_at')) STORED,
    UNIQUE (source_system, external_id)
);

CREATE TABLE instruction_reply (
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
    instruction_no  text GENERATED ALWAYS AS (data ->> 'instruction_no') STORED,
    UNIQUE (source_system, external_id)
);
CREATE INDEX instruction_reply_instruction ON instruction_reply (source_system, instruction_no);

CREATE TABLE resource (
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
    resource_type   text GENERATED ALWAYS AS (data ->> 'resource_type') STORED,
    status          text GENERATED ALWAYS AS (data ->> 'status') STORED,
    division_code   text GENERATED ALWAYS AS (data ->> 'division_code') STORED,
    UNIQUE (source_system, external_id)
);
CREATE INDEX resource_type_division ON resource (resource_type, division_code);

-- One row per instruction and addressee: whether the addressee acknowledged it and reported back,
-- by the feedback deadline. Each change is reported back to the issuer (instruction_feedback).
CREATE TABLE instruction_receipt (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    version           integer NOT NULL DEFAULT 1,
    -- The instruction entity; no foreign key, as for transfers: a rebuild clears the entities and
    -- gives each back the id it had.
    instruction       uuid NOT NULL,
    instruction_no    text NOT NULL,
    issuer            text NOT NULL,
    addressee         text NOT NULL,
    feedback_deadline timestamptz,
    acknowledged_at   timestamptz,
    acknowledged_by   text,
    feedback          text,
    feedback_at       timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (instruction, addressee)
);
CREATE INDEX instruction_receipt_number ON instruction_receipt (addressee, instruction_no);
