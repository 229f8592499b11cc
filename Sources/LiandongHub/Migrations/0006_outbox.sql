-- Deliveries: one outbox row per entity version a receiver is entitled to, written in the same
-- transaction as the change; the pusher sends them through the target adapter and records each
-- attempt. See docs/sharing.md.

CREATE TABLE outbox (
    id                bigserial PRIMARY KEY,
    target            text NOT NULL,
    entity_kind       text NOT NULL,
    entity_id         uuid NOT NULL,
    entity_version    integer NOT NULL,
    -- sha256(target | kind | id | version): the receiver sees the same key on every attempt.
    idempotency_key   text NOT NULL UNIQUE,
    -- The agreement version the payload was granted under, and the one it finally went out under.
    agreement_version integer NOT NULL,
    sent_agreement_version integer,
    -- Granted fields only, masked: nothing else about the entity is kept here.
    payload           jsonb NOT NULL,
    -- pending → delivered | dead | expired | superseded; dead and expired go back to pending on retry.
    status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'delivered', 'dead', 'expired', 'superseded')),
    attempts          integer NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz NOT NULL DEFAULT now(),
    last_error        text,
    -- The document as sent and the receiver's answer (its acceptance number).
    sent_body         bytea,
    sent_content_type text,
    receipt           text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    delivered_at      timestamptz
);
-- What the pusher of one target looks at: its pending rows, due first.
CREATE INDEX outbox_due ON outbox (target, next_attempt_at) WHERE status = 'pending';
-- Order per entity: a row waits while an earlier one of the same entity is pending.
CREATE INDEX outbox_entity ON outbox (target, entity_id, id);

CREATE TABLE delivery_attempt (
    outbox_id  bigint NOT NULL REFERENCES outbox (id),
    attempt    integer NOT NULL,
    at         timestamptz NOT NULL DEFAULT now(),
    outcome    text NOT NULL CHECK (outcome IN ('delivered', 'failed', 'rejected', 'expired')),
    error      text,
    receipt    text,
    PRIMARY KEY (outbox_id, attempt)
);
