-- The scheduler: named leases (one holder at a time, with expiry) and each stream's schedule state.

-- A lease is held by one instance until expires_at; the holder renews it while it works. Another
-- instance takes it once it has expired. Rows are claimed with FOR UPDATE SKIP LOCKED.
CREATE TABLE lease (
    name        text PRIMARY KEY,
    holder      text,
    expires_at  timestamptz NOT NULL DEFAULT '-infinity',
    acquired_at timestamptz,
    renewed_at  timestamptz
);

CREATE TABLE stream_state (
    source_system        text NOT NULL,
    stream               text NOT NULL,
    paused               boolean NOT NULL DEFAULT false,
    next_run_at          timestamptz NOT NULL DEFAULT '-infinity',
    last_run_at          timestamptz,
    last_ok_at           timestamptz,
    consecutive_failures integer NOT NULL DEFAULT 0,
    last_error           text,
    last_holder          text,
    PRIMARY KEY (source_system, stream)
);
