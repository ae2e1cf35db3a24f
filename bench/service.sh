#!/usr/bin/env bash
# The bureau service under load (bench/run service): a consented score request — consent check,
# file read, features, score, reasons, and the durable log append — from wrk on loopback, on
# SQLite and PostgreSQL. Two measures: the throughput ceiling, closed-loop from wrk; and the latency
# at a constant 1,000 requests/s, open-loop from bench/loadgen (latency counted from each
# request's due time). Installs wrk (Debian) if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
cargo build --release --quiet --bin candor --bin candor-loadgen
out=bench/out/service
rm -rf "$out"; mkdir -p "$out"
./target/release/candor demo --no-serve --dir "$out/demo" --subjects 20000 > "$out/demo.txt" 2> "$out/demo.err"
number=$(grep "A person" "$out/demo.txt" | sed 's/.*cn_rid \([0-9X]*\),.*/\1/')
shop=$(grep "^Merchant" "$out/demo.txt" | awk '{print $3}')
# The per-key limit is lifted: the load generator is one key.
cat > "$out/candor.toml" <<TOML
listen = "127.0.0.1:18090"
db = "$out/demo/candor.db"
model = "$out/demo/model.json"
requests_per_minute = 100000000
TOML
./target/release/candor serve --config "$out/candor.toml" > "$out/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
# Ready when /healthz answers; a server that stopped shows its log.
wait_ready() {
    for _ in $(seq 100); do
        curl -sf -o /dev/null "$1/healthz" && return 0
        kill -0 $pid 2>/dev/null || { echo "the server stopped:"; cat "$2"; exit 1; }
        sleep 0.2
    done
    echo "the server did not come up"; exit 1
}
base=http://127.0.0.1:18090
wait_ready $base "$out/serve.log"
token=$(curl -s -X POST $base/v1/sessions -H 'content-type: application/json' \
    -d "{\"scheme\":\"cn_rid\",\"number\":\"$number\",\"passphrase\":\"demo passphrase one\"}" | sed 's/.*"token":"\([^"]*\)".*/\1/')
curl -s -o /dev/null -X POST $base/v1/me/consents -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d '{"org":"demo-shop","purpose":"deposit_waiver","until":"2030-12-31"}'
body="{\"scheme\":\"cn_rid\",\"number\":\"$number\",\"purpose\":\"deposit_waiver\"}"
status=$(curl -s -o "$out/first.json" -w '%{http_code}' -X POST $base/v1/scores -H "authorization: Bearer $shop" -H 'content-type: application/json' -d "$body")
[ "$status" = 200 ] || { echo "the first score request answered $status: $(cat "$out/first.json")"; exit 1; }
cat > "$out/score.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"scheme":"cn_rid","number":"$number","purpose":"deposit_waiver"}'
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer $shop"
LUA
for connections in 4 16; do
    echo "== SQLite: consented score requests, $connections connections, 20 s"
    wrk -t2 -c$connections -d20s --latency -s "$out/score.lua" $base/v1/scores | grep -E "Requests/sec|Latency|50%|90%|99%|Non-2xx"
done
constant_rate() {
    ./target/release/candor-loadgen "$base/v1/scores" --method POST -H "content-type: application/json" \
        -H "authorization: Bearer $shop" --body "$body" --rate "$2" --duration 30 --label "$1"
}
echo "== SQLite: consented score requests at a constant 1,000/s, 30 s (target p99 <= 10 ms)"
constant_rate "SQLite" 1000
kill $pid 2>/dev/null || true

# The same on PostgreSQL: the demo population ingested into a schema of its own.
export CANDOR_IDENTITY_KEY=$(printf '1%.0s' $(seq 64)) CANDOR_SEALING_KEY=$(printf '2%.0s' $(seq 64)) \
    CANDOR_LOG_KEY=$(printf '3%.0s' $(seq 64))
server="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
psql "$server" -q -c "DROP SCHEMA IF EXISTS candor_service CASCADE" >/dev/null 2>&1
sep='?'; case "$server" in *\?*) sep='&';; esac
pg="$server${sep}schema=candor_service"
./target/release/candor ingest --quiet --db "$pg" "$out"/demo/pop/batches/*.jsonl > /dev/null
shop=$(./target/release/candor org add --db "$pg" --id demo-shop --kind merchant --name Shop 2>/dev/null)
cat > "$out/candor-pg.toml" <<TOML
listen = "127.0.0.1:18091"
db = "$pg"
model = "$out/demo/model.json"
requests_per_minute = 100000000
TOML
./target/release/candor serve --config "$out/candor-pg.toml" > "$out/serve-pg.log" 2>&1 &
pid=$!
base=http://127.0.0.1:18091
wait_ready $base "$out/serve-pg.log"
credentials="{\"scheme\":\"cn_rid\",\"number\":\"$number\",\"passphrase\":\"demo passphrase one\"}"
curl -s -o /dev/null -X POST $base/v1/subjects -H 'content-type: application/json' -d "$credentials"
token=$(curl -s -X POST $base/v1/sessions -H 'content-type: application/json' -d "$credentials" | sed 's/.*"token":"\([^"]*\)".*/\1/')
curl -s -o /dev/null -X POST $base/v1/me/consents -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d '{"org":"demo-shop","purpose":"deposit_waiver","until":"2030-12-31"}'
sed -i "s/Bearer [a-z0-9_]*/Bearer $shop/" "$out/score.lua"
for connections in 4 16; do
    echo "== PostgreSQL: consented score requests, $connections connections, 20 s"
    wrk -t2 -c$connections -d20s --latency -s "$out/score.lua" $base/v1/scores | grep -E "Requests/sec|Latency|50%|90%|99%|Non-2xx"
done
echo "== PostgreSQL: consented score requests at a constant 500/s and 1,000/s, 30 s each"
constant_rate "PostgreSQL" 500
constant_rate "PostgreSQL" 1000
kill $pid 2>/dev/null || true
psql "$server" -q -c "DROP SCHEMA IF EXISTS candor_service CASCADE" >/dev/null 2>&1
