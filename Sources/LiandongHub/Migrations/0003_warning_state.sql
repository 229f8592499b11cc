-- Whether each warning is in force: cancelled (a Cancel references it), superseded (an Update
-- references it), expired (past every info's expires), or active. A Cancel or an Update that is
-- itself superseded follows the same rules; a Cancel message is never active itself.
CREATE VIEW warning_state AS
SELECT w.id,
       CASE
           WHEN EXISTS (SELECT 1 FROM entity_link l JOIN warning c ON c.id = l.from_entity
                        WHERE l.link_type = 'supersedes' AND l.target_source = w.source_system
                          AND l.target_external_id = w.external_id AND c.msg_type = 'Cancel') THEN 'cancelled'
           WHEN w.msg_type = 'Cancel' THEN 'cancellation'
           WHEN EXISTS (SELECT 1 FROM entity_link l
                        WHERE l.link_type = 'supersedes' AND l.target_source = w.source_system
                          AND l.target_external_id = w.external_id) THEN 'superseded'
           WHEN w.expires IS NOT NULL AND w.expires <= now() THEN 'expired'
           ELSE 'active'
       END AS state
FROM warning w;
