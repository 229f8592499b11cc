-- Identity at a city's density (issue 18): one open link candidate per report, for its best incident.
-- A candidate that a better one replaced, or whose report has since joined its incident (both decided
-- by identity resolution as reports arrive), is kept as 'superseded'; here, of a report's open ones
-- only the best stays open.
ALTER TABLE link_candidate DROP CONSTRAINT link_candidate_status_check;
ALTER TABLE link_candidate ADD CONSTRAINT link_candidate_status_check
    CHECK (status IN ('open', 'accepted', 'rejected', 'superseded'));
UPDATE link_candidate c SET status = 'superseded', decided_at = now()
WHERE c.status = 'open' AND EXISTS (
    SELECT 1 FROM link_candidate d
    WHERE d.report_id = c.report_id AND d.status = 'open'
      AND ((d.score ->> 'total')::float8, d.id) > ((c.score ->> 'total')::float8, c.id));
CREATE UNIQUE INDEX link_candidate_one_open ON link_candidate (report_id) WHERE status = 'open';
-- Identity reads the decisions about the reports it loads, by either side of the pair.
CREATE INDEX identity_constraint_b ON identity_constraint (b);
