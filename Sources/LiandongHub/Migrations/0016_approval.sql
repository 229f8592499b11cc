-- Receivers whose deliveries wait for an operator (the emergency broadcast platform): a delivery
-- is written as awaiting_approval, then approved (pending) or refused, never sent on the hub's word
-- alone. Who decided and why is in the audit chain (delivery.approve / delivery.refuse).
ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check
    CHECK (status IN ('pending', 'delivered', 'dead', 'expired', 'superseded', 'awaiting_approval', 'refused'));

-- Approvals and refusals are admin actions: the console's audit page lists them.
DROP INDEX audit_entry_decision;
CREATE INDEX audit_entry_decision ON audit_entry (seq) WHERE action IN (
    'ignore', 'replay', 'replay_failed', 'delivery.retry', 'delivery.approve', 'delivery.refuse', 'incident.split',
    'incident.merge', 'candidate.accept', 'candidate.reject', 'conflict.resolve', 'stream.pause', 'stream.resume',
    'user.create', 'user.update', 'token.create', 'token.revoke', 'job.start');
