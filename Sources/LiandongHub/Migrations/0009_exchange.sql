-- Incident reports relayed by a data-sharing exchange (共享交换平台) from its member systems: a
-- report kind of their own beside those of the agencies, so identity resolution links them too.

CREATE TABLE exchange_report (
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
    member_system   text GENERATED ALWAYS AS (data ->> 'member_system') STORED,
    status          text GENERATED ALWAYS AS (data ->> 'status') STORED,
    division_code   text GENERATED ALWAYS AS (data ->> 'division_code') STORED,
    reported_at     timestamptz GENERATED ALWAYS AS (hub_time(data ->> 'reported_at')) STORED,
    lat             double precision GENERATED ALWAYS AS (hub_number(data -> 'location' ->> 'lat')) STORED,
    lon             double precision GENERATED ALWAYS AS (hub_number(data -> 'location' ->> 'lon')) STORED,
    UNIQUE (source_system, external_id)
);

CREATE INDEX exchange_report_report_time ON exchange_report (hub_time(data ->> 'reported_at'));
