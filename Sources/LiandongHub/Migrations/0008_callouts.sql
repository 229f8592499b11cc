-- Warning call-outs (叫应): each responsible person at a receiver must acknowledge each red or
-- orange warning delivered to it. Acknowledgements are pulled back from the receivers like any
-- record (entity kind `acknowledgement`). See docs/sharing.md.

CREATE TABLE acknowledgement (
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
    warning_id      text GENERATED ALWAYS AS (data ->> 'warning_id') STORED,
    person          text GENERATED ALWAYS AS (data ->> 'person') STORED,
    acknowledged_at timestamptz GENERATED ALWAYS AS (hub_time(data ->> 'acknowledged_at')) STORED,
    UNIQUE (source_system, external_id)
);
CREATE INDEX acknowledgement_warning ON acknowledgement (source_system, warning_id, person);

CREATE TABLE callout (
    id              bigserial PRIMARY KEY,
    target          text NOT NULL,
    warning_entity  uuid NOT NULL,
    -- The warning's own identifier (CAP identifier), which acknowledgements name.
    warning_id      text NOT NULL,
    colour          text NOT NULL,
    person          text NOT NULL,
    -- The delivery that made the call.
    outbox_id       bigint NOT NULL REFERENCES outbox (id),
    called_at       timestamptz NOT NULL DEFAULT now(),
    acknowledged_at timestamptz,
    acknowledgement uuid,
    UNIQUE (target, warning_entity, person)
);
