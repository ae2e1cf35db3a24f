#!/usr/bin/env bash
# Two builds of candor side by side under the same load: consented score requests, as
# bench/service.sh makes them, for SECONDS with wrk at CONNECTIONS, the builds alternating for
# ROUNDS rounds, the demo population ingested afresh before each run. The machine's speed moves
# from one hour to the next; alternating in the same hour is what tells a change from the day.
#   bench/ab.sh BUILD_A BUILD_B [sqlite|postgres] [CONNECTIONS] [ROUNDS] [SECONDS]
# e.g. bench/ab.sh /tmp/before/candor target/release/candor postgres 4 3 8
# PostgreSQL: DATABASE_URL names the server (default postgres://postgres@127.0.0.1:5432/postgres);
# a schema of its own is made and dropped for each run. Installs wrk (Debian) if missing.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,9p' "$0"; exit 2; }
a=$(realpath "$1") b=$(realpath "$2") kind=${3:-postgres} connections=${4:-4} rounds=${5:-3} seconds=${6:-8}
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
out=bench/out/ab
rm -rf "$out"; mkdir -p "$out"
"$a" demo --no-serve --dir "$out/demo" --subjects 20000 > "$out/demo.txt" 2> "$out/demo.err"
number=$(grep "^A person (subject)" "$out/demo.txt" | sed 's/.*cn_rid \([0-9X]*\),.*/\1/')
export CANDOR_IDENTITY_KEY=$(printf '1%.0s' $(seq 64)) CANDOR_SEALING_KEY=$(printf '2%.0s' $(seq 64)) \
    CANDOR_LOG_KEY=$(printf '3%.0s' $(seq 64))
server="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
sep='?'; case "$server" in *\?*) sep='&';; esac
port=18097 base=http://127.0.0.1:18097
. bench/scoring.sh
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null || true; [ "$kind" = postgres ] && psql "$server" -q -c "DROP SCHEMA IF EXISTS candor_ab CASCADE" >/dev/null 2>&1 || true' EXIT

# run BUILD: a fresh store, the demo person consenting to the shop, then wrk; prints one line.
run() {
    local bin=$1 db
    if [ "$kind" = postgres ]; then
        psql "$server" -q -c "DROP SCHEMA IF EXISTS candor_ab CASCADE" >/dev/null 2>&1
        db="$server${sep}schema=candor_ab"
    else
        rm -f "$out"/ab.*
        db="$out/ab.db"
    fi
    "$bin" ingest --quiet --db "$db" "$out"/demo/pop/batches/*.jsonl > /dev/null
    local shop
    shop=$("$bin" org add --db "$db" --id demo-shop --kind merchant --name Shop 2>/dev/null)
    serve_scores "$bin" "$port" "$db" "$shop" "$out" "$number"
    echo "$bin: $(wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$out/score-$port.lua" $base/v1/scores \
        | grep -E 'Requests/sec|90%|99%|Non-2xx' | tr -s ' ' | tr '\n' ' ')"
    kill $pid; wait $pid 2>/dev/null || true
    pid=
}

echo "== $kind, $connections connections, ${seconds} s a run, $rounds rounds alternating"
for round in $(seq "$rounds"); do
    echo "round $round"
    run "$a"
    run "$b"
done
