-- Transfers (转办): a matter the routing rules send from one platform to the other (12345 ↔ 110),
-- carried by the hub until the receiver has accepted it and sent back its result. See docs/sharing.md.

CREATE TABLE transfer (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    no                bigserial UNIQUE,
    rule              text NOT NULL,
    from_system       text NOT NULL,
    to_system         text NOT NULL,
    from_kind         text NOT NULL,
    from_entity       uuid NOT NULL,
    -- Both sides' numbers: the transferring record's, and the receiver's once it has accepted.
    from_number       text NOT NULL,
    to_number         text,
    reason            text NOT NULL,
    mode              text NOT NULL,
    -- Raised on every change (acceptance, return, feedback); each version is delivered back once.
    version           integer NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    accept_deadline   timestamptz NOT NULL,
    feedback_deadline timestamptz NOT NULL,
    accepted_at       timestamptz,
    returned_at       timestamptz,
    return_reason     text,
    feedback          text,
    feedback_at       timestamptz,
    UNIQUE (from_entity, to_system)
);
CREATE INDEX transfer_from_number ON transfer (from_system, from_number);
