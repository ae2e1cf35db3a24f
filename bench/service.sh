#!/usr/bin/env bash
# The bureau service under load (bench/run service): a consented score request — consent check,
# file read, features, score, reasons, and the durable log append — on loopback, on SQLite and
# PostgreSQL. Two measures: the throughput ceiling, closed-loop from wrk; and the latency at a
# constant rate, open-loop from bench/loadgen (latency counted from each request's due time).
# Installs wrk (Debian) if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
cargo build --release --quiet --bin candor --bin candor-loadgen
out=bench/out/service
rm -rf "$out"; mkdir -p "$out"
./target/release/candor demo --no-serve --dir "$out/demo" --subjects 20000 > "$out/demo.txt" 2> "$out/demo.err"
number=$(grep "^A person (subject)" "$out/demo.txt" | sed 's/.*cn_rid \([0-9X]*\),.*/\1/')
body="{\"scheme\":\"cn_rid\",\"number\":\"$number\",\"purpose\":\"deposit_waiver\"}"
. bench/scoring.sh
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null || true' EXIT

# measure LABEL PORT DB SHOP_KEY RATE...: serves DB for the demo shop (bench/scoring.sh), then
# measures the ceiling at 4 and 16 connections and the latency at each constant RATE for 30 s.
measure() {
    local label=$1 port=$2 db=$3 shop=$4
    shift 4
    local base=http://127.0.0.1:$port
    serve_scores ./target/release/candor "$port" "$db" "$shop" "$out" "$number"
    for connections in 4 16; do
        echo "== $label: consented score requests, $connections connections, 20 s"
        wrk -t2 -c$connections -d20s --latency -s "$out/score-$port.lua" $base/v1/scores | grep -E "Requests/sec|Latency|50%|90%|99%|Non-2xx"
    done
    if [ "$label" = SQLite ]; then
        # A sign-in flood (wrong passphrases for an unknown identifier, 64 connections) while
        # lenders score at a constant rate: the others' latency, and the server's peak memory.
        printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["content-type"] = "application/json"\n' \
            "'{\"scheme\":\"cn_rid\",\"number\":\"110105199001011232\",\"passphrase\":\"a wrong guess\"}'" > "$out/flood.lua"
        echo "== $label: sign-in flood (64 connections) during consented scores at 500/s, 20 s (target: the scores' p99 < 20 ms, memory bounded)"
        local before
        before=$(grep VmRSS /proc/$pid/status | awk '{print $2/1024}')
        wrk -t2 -c64 -d22s -s "$out/flood.lua" $base/v1/sessions > "$out/flood.txt" 2>&1 &
        local flood=$!
        sleep 1
        ./target/release/candor-loadgen "$base/v1/scores" --method POST -H "content-type: application/json" \
            -H "authorization: Bearer $shop" --body "$body" --rate 500 --duration 20 --label "$label during a sign-in flood"
        wait $flood || true
        grep -E "Requests/sec|Non-2xx" "$out/flood.txt" | sed 's/^/  flood: /'
        echo "  server memory: $before MiB before the flood, $(grep VmRSS /proc/$pid/status | awk '{print $2/1024}') MiB after, peak $(grep VmHWM /proc/$pid/status | awk '{print $2/1024}') MiB"
    fi
    for rate in "$@"; do
        echo "== $label: consented score requests at a constant $rate/s, 30 s (target on SQLite: p99 <= 10 ms at 1,000/s)"
        ./target/release/candor-loadgen "$base/v1/scores" --method POST -H "content-type: application/json" \
            -H "authorization: Bearer $shop" --body "$body" --rate "$rate" --duration 30 --label "$label"
    done
    kill $pid 2>/dev/null || true
    wait $pid 2>/dev/null || true
    pid=
}

measure SQLite 18090 "$out/demo/candor.db" "$(grep "^Merchant" "$out/demo.txt" | awk '{print $3}')" 1000

# The same on PostgreSQL: the demo population ingested into a schema of its own.
export CANDOR_IDENTITY_KEY=$(printf '1%.0s' $(seq 64)) CANDOR_SEALING_KEY=$(printf '2%.0s' $(seq 64)) \
    CANDOR_LOG_KEY=$(printf '3%.0s' $(seq 64))
server="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
psql "$server" -q -c "DROP SCHEMA IF EXISTS candor_service CASCADE" >/dev/null 2>&1
sep='?'; case "$server" in *\?*) sep='&';; esac
pg="$server${sep}schema=candor_service"
./target/release/candor ingest --quiet --db "$pg" "$out"/demo/pop/batches/*.jsonl > /dev/null
shop=$(./target/release/candor org add --db "$pg" --id demo-shop --kind merchant --name Shop 2>/dev/null)
measure PostgreSQL 18091 "$pg" "$shop" 500 1000
psql "$server" -q -c "DROP SCHEMA IF EXISTS candor_service CASCADE" >/dev/null 2>&1
