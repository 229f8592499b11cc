-- Record kinds declared as data (Mappings/kinds/): each row is the declaration the kind's table was
-- last made or evolved from, so that the next change can be compared with it.

CREATE TABLE entity_kind (
    kind        text PRIMARY KEY,
    declaration jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- A declared kind's typed columns read what its mapping wrote, which the hub does not check against
-- the declaration: a value that does not read as the column's type is NULL there (it stays in data),
-- never an error that would fail the page.
CREATE FUNCTION hub_try_number(text) RETURNS double precision
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT
    AS $$ BEGIN RETURN $1::double precision; EXCEPTION WHEN others THEN RETURN NULL; END $$;

-- Only a time written with its offset (as the mapping language writes every time) is read: one
-- without would depend on the session's time zone, which an IMMUTABLE function must not.
CREATE FUNCTION hub_try_time(text) RETURNS timestamptz
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT
    AS $$ BEGIN
        IF $1 !~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$' THEN RETURN NULL; END IF;
        RETURN $1::timestamptz;
    EXCEPTION WHEN others THEN RETURN NULL;
    END $$;

CREATE FUNCTION hub_try_boolean(text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT
    AS $$ SELECT CASE lower($1) WHEN 'true' THEN true WHEN 'false' THEN false END $$;
