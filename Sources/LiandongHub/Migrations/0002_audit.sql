-- The audit trail: append-only, hash-chained. hash = SHA-256(prev_hash || body), where body is the
-- entry's canonical JSON as the hub wrote it. The chain head row is locked by every batch that
-- appends, so entries are numbered without gaps in commit order.
CREATE TABLE audit_entry (
    seq         bigint PRIMARY KEY,
    at          timestamptz NOT NULL,
    action      text NOT NULL,
    entity_kind text NOT NULL,
    entity_id   text NOT NULL,
    body        text NOT NULL,
    prev_hash   bytea NOT NULL,
    hash        bytea NOT NULL
);
CREATE INDEX audit_entry_entity ON audit_entry (entity_id);

CREATE TABLE audit_head (
    id   integer PRIMARY KEY CHECK (id = 1),
    seq  bigint NOT NULL,
    hash bytea NOT NULL
);
INSERT INTO audit_head VALUES (1, 0, '\x0000000000000000000000000000000000000000000000000000000000000000');

CREATE FUNCTION audit_entry_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_entry is append-only: % refused', TG_OP;
END $$;

CREATE TRIGGER audit_entry_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_entry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_refuse_change();
