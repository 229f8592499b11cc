-- One outbox row per receiver and entity version. The idempotency key is a hash of exactly that
-- (target, kind, id, version), so its own unique index said the same thing as this one while costing
-- a random-order insert per row; and this index also serves what `outbox_entity` served (an
-- entity's rows per target, in order). Two indexes on the widest table become one.
ALTER TABLE outbox DROP CONSTRAINT outbox_idempotency_key_key;
DROP INDEX outbox_entity;
CREATE UNIQUE INDEX outbox_entity_version ON outbox (target, entity_id, entity_version);
