-- A receiver's answer to a failed or refused attempt, kept with the attempt and nowhere else
-- (not in outbox.last_error, not in the audit chain): it can carry anything the agency wrote.
ALTER TABLE delivery_attempt ADD COLUMN answer bytea, ADD COLUMN answer_content_type text;
