#!/usr/bin/env bash
# The floor of the hub's schema beside the limit, on one embedded PostgreSQL (docs/performance.md,
# "The floor"). The hub ingests the peers' files; then PostgreSQL alone writes exactly the rows the hub
# wrote, by COPY, in one transaction, with no client work and no reads — the initial rows into empty
# tables, the update phase's rows (inserted or changed: xmin at or after the phase's start) by the
# limit's own technique (COPY into a temporary table, ANALYZE, one upsert per table) into a copy of the
# database as it was before the phase. The initial rows are also written into a leaner schema (no
# generated columns, incident provenance or outbox payload). The limit's loader runs on the same
# server, alternating with the floors, REPS times.
#
# From the project root, after `swift build -c release --product liandong` and the peers' run.sh
# (which writes the data and a Python with psycopg and orjson):
#   bash docs/performance-floor.sh /tmp/peerdata
set -euo pipefail
DATA=${1:?usage: performance-floor.sh DATA_DIR (holding initial.jsonl and update.jsonl from gen.py)}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=$(cd "$DATA" && pwd)
cd "$ROOT" # liandong reads Mappings/ from here
LIANDONG=${LIANDONG:-$ROOT/.build/release/liandong}
PEERS=${PEERS:-$ROOT/../shared/bench/peers}
PY=${PEER_PY:-/tmp/peervenv/bin/python}
REPS=${REPS:-3}
export PGOPTIONS="-c client_min_messages=warning"

WORK=$(mktemp -d /tmp/liandong-floor.XXXXXX)
chmod 777 "$WORK" # the server writes and reads the row files itself
"$LIANDONG" db start --data-dir "$WORK/hub" >/dev/null
trap '"$LIANDONG" db stop --data-dir "$WORK/hub" >/dev/null; rm -rf "$WORK"' EXIT
URL=$("$LIANDONG" db url --data-dir "$WORK/hub")
base=${URL%%\?*}
query=${URL#*\?}
db() { echo "${base%/*}/$1?$query"; } # another database on the same server
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
seconds() { local start=$(date +%s.%N); "$@" >/dev/null; awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { print e - s }'; }
# The server's CPU seconds so far: the postmaster's own and its reaped children's, and every live
# child's (proc(5); as `liandong bench ingest` reads it). The checkpointer lives as long as the server.
POSTMASTER=$(awk '{ print $4 }' "/proc/$(sql "$URL" -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")/stat")
server_cpu() {
    cat /proc/[0-9]*/stat 2>/dev/null | awk -v pm="$POSTMASTER" -v hz="$(getconf CLK_TCK)" '
        $1 == pm { t += $14 + $15 + $16 + $17 } $4 == pm { t += $14 + $15 } END { printf "%.2f", t / hz }'
}

# Writes into $2 a psql script loading the rows of database $1 that match $4 ("true": all), one file
# per table, parents first; $3 is "copy" (into empty tables) or "upsert" (into tables holding rows);
# the columns are those database $5 has (default $1).
write_load_script() {
    local from=$1 dir=$2 mode=$3 where=$4 shape=${5:-$1} t cols key rows set_list
    mkdir -p "$dir" && chmod 777 "$dir"
    echo 'BEGIN;' >"$dir/load.sql"
    for t in $(sql "$from" -c "
        WITH RECURSIVE d(oid, depth) AS (
            SELECT c.oid, 0 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r'
            UNION ALL
            SELECT k.conrelid, d.depth + 1 FROM d JOIN pg_constraint k ON k.confrelid = d.oid AND k.contype = 'f'
            WHERE k.conrelid <> k.confrelid AND d.depth < 10)
        SELECT relname FROM d JOIN pg_class USING (oid) GROUP BY relname ORDER BY max(depth), relname"); do
        cols=$(sql "$shape" -c "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
                               WHERE attrelid = 'public.$t'::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''")
        key=$(sql "$from" -c "SELECT string_agg(quote_ident(a.attname), ', ') FROM pg_index i
                              JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                              WHERE i.indrelid = 'public.$t'::regclass AND i.indisprimary")
        # Without -q: psql's "COPY n" is the row count.
        rows=$(psql -X -At -v ON_ERROR_STOP=1 "$from" -c "COPY (SELECT $cols FROM public.$t WHERE $where) TO '$dir/$t.bin' WITH (FORMAT binary)" | awk '{print $2}')
        [ "${rows:-0}" = 0 ] && continue
        echo "$t $rows" >>"$dir/rows.txt"
        if [ "$mode" = copy ]; then
            echo "COPY public.$t ($cols) FROM '$dir/$t.bin' WITH (FORMAT binary);" >>"$dir/load.sql"
            continue
        fi
        echo "CREATE TEMP TABLE stage_$t AS SELECT $cols FROM public.$t LIMIT 0;
              COPY stage_$t FROM '$dir/$t.bin' WITH (FORMAT binary);
              ANALYZE stage_$t;" >>"$dir/load.sql"
        # audit_entry is append-only: its UPDATE trigger would fire on any upsert, and its rows are new.
        if [ -z "$key" ] || [ "$t" = audit_entry ]; then
            echo "INSERT INTO public.$t ($cols) SELECT * FROM stage_$t;" >>"$dir/load.sql"
        else
            set_list=$(echo "$cols" | tr ',' '\n' | sed 's/^ *//' |
                awk -v k=", $key," 'index(k, ", " $0 ",") == 0 { printf "%s%s = EXCLUDED.%s", sep, $0, $0; sep = ", " }')
            echo "INSERT INTO public.$t ($cols) SELECT * FROM stage_$t ON CONFLICT ($key) DO UPDATE SET $set_list;" >>"$dir/load.sql"
        fi
    done
    echo 'COMMIT;' >>"$dir/load.sql"
}

echo "== the hub: liandong bench ingest"
"$LIANDONG" bench ingest --database-url "$URL" --input "$DATA/initial.jsonl" | head -1
xid=$(sql "$URL" -c "SELECT txid_current()")
sql "$URL" -c "CREATE DATABASE floor_schema" -c "CREATE DATABASE floor_before_update"
pg_dump -s "$URL" | psql -X -q "$(db floor_schema)" >/dev/null
pg_dump -Fc "$URL" | pg_restore -d "$(db floor_before_update)"
sql "$(db floor_before_update)" -c "VACUUM ANALYZE"
"$LIANDONG" bench ingest --database-url "$URL" --input "$DATA/update.jsonl" | head -1
echo "== the hub right afterwards: stats and audit verify"
"$LIANDONG" stats --data-dir "$WORK/hub" | grep -v ': 0$'
"$LIANDONG" audit verify --data-dir "$WORK/hub"

# A leaner schema: the same tables and indexes without what is derived or could be (every generated
# column, with the indexes and views on them; the incident's provenance; the outbox's copy of the payload).
sql "$URL" -c "CREATE DATABASE floor_lean_schema TEMPLATE floor_schema"
sql "$(db floor_lean_schema)" -c "
    DO \$\$
    DECLARE col record;
    BEGIN
        FOR col IN SELECT attrelid::regclass AS tab, attname FROM pg_attribute
                   WHERE attgenerated = 's' AND NOT attisdropped AND attrelid::regclass::text NOT LIKE 'pg_%'
        LOOP
            EXECUTE format('ALTER TABLE %s DROP COLUMN %I CASCADE', col.tab, col.attname); -- with views on them
        END LOOP;
    END \$\$;
    ALTER TABLE incident DROP COLUMN provenance;
    ALTER TABLE outbox DROP COLUMN payload"

write_load_script "$(db floor_before_update)" "$WORK/initial" copy true
write_load_script "$(db floor_before_update)" "$WORK/lean" copy true "$(db floor_lean_schema)"
write_load_script "$URL" "$WORK/update" upsert "xmin::text::bigint >= $xid"
echo "== rows of the floor (initial, then update)"
cat "$WORK/initial/rows.txt" "$WORK/update/rows.txt"

sql "$URL" -c "CREATE DATABASE peer"
limit() { "$PY" "$PEERS/load_copy.py" --dsn "$(db peer)" --mode typed --audit 1 "$@"; }
limit_seconds() { limit --file "$1" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["elapsed_s"])'; }
# Prints the seconds a floor took and the server's CPU seconds in them.
floor() {
    sql "$URL" -c "DROP DATABASE IF EXISTS floor" -c "CREATE DATABASE floor TEMPLATE $1" -c "CHECKPOINT"
    local before=$(server_cpu) took=$(seconds psql -X -q -v ON_ERROR_STOP=1 -f "$2/load.sql" "$(db floor)")
    echo "$took $(awk -v a="$before" -v b="$(server_cpu)" 'BEGIN { printf "%.2f", b - a }')"
}
# Records per second (and the CPU) of a floor's "seconds cpu", or of the limit's seconds.
rate() { awk -v n="$1" -v t="$2" 'BEGIN { split(t, f, " "); printf "%d", n / f[1]; if (f[2] != "") printf " (PostgreSQL CPU %s s)", f[2] }'; }
initial=$(grep -c . "$DATA/initial.jsonl")
update=$(grep -c . "$DATA/update.jsonl")
echo "== the limit and the floors, alternating (records/s; rep 0 warms the server up and is not counted)"
for rep in $(seq 0 "$REPS"); do
    limit --setup --file - && sql "$(db peer)" -c CHECKPOINT
    l_init=$(limit_seconds "$DATA/initial.jsonl")
    f_init=$(floor floor_schema "$WORK/initial")
    f_lean=$(floor floor_lean_schema "$WORK/lean")
    sql "$(db peer)" -c "VACUUM ANALYZE" -c CHECKPOINT
    l_upd=$(limit_seconds "$DATA/update.jsonl")
    f_upd=$(floor floor_before_update "$WORK/update")
    [ "$rep" = 0 ] && continue
    echo "rep $rep: initial limit $(rate "$initial" "$l_init") floor $(rate "$initial" "$f_init") lean $(rate "$initial" "$f_lean");" \
        "update limit $(rate "$update" "$l_upd") floor $(rate "$update" "$f_upd")"
done
