-- Speed of ingest (docs/performance.md).
--
-- An incident is written once, with its decided fields, when identity resolution has placed its
-- reports: the memberships, link candidates and merges naming it come first in the transaction, so
-- their references to it are checked at commit. It used to be inserted empty and updated at once,
-- which wrote every new incident twice.
ALTER TABLE incident_report ALTER CONSTRAINT incident_report_incident_id_fkey DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE link_candidate ALTER CONSTRAINT link_candidate_incident_id_fkey DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE incident ALTER CONSTRAINT incident_merged_into_fkey DEFERRABLE INITIALLY DEFERRED;

-- Values too long for a row (a raw page, a long report) are compressed with lz4 rather than pglz,
-- which took a tenth of the server time of a backfill. A server built without lz4 keeps pglz.
DO $$
DECLARE
    col record;
BEGIN
    FOR col IN
        SELECT c.relname, a.attname FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
          AND a.attstorage IN ('x', 'm') AND a.atttypid IN ('jsonb'::regtype, 'bytea'::regtype, 'text'::regtype)
    LOOP
        EXECUTE format('ALTER TABLE %I ALTER COLUMN %I SET COMPRESSION lz4', col.relname, col.attname);
    END LOOP;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not available on this server: values stay compressed with pglz';
END
$$;
