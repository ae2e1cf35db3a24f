#!/usr/bin/env bash
# The person's portal under load (bench/run pages): each page of one's own, rendered from the
# store on SQLite for a signed-in person of the 20,000-person demo, at a constant 100 pages/s
# for 20 s, open-loop from bench/loadgen (latency counted from each request's due time).
# Target: p99 under 50 ms at 100 pages/s.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin candor --bin candor-loadgen
out=bench/out/pages
rm -rf "$out"; mkdir -p "$out"
./target/release/candor demo --no-serve --dir "$out/demo" --subjects 20000 > "$out/demo.txt" 2> "$out/demo.err"
number=$(grep "^A person (subject)" "$out/demo.txt" | sed 's/.*cn_rid \([0-9X]*\),.*/\1/')
port=18092
base=http://127.0.0.1:$port
printf 'listen = "127.0.0.1:%s"\ndb = "%s"\nmodel = "%s"\nrequests_per_minute = 100000000\n' \
    "$port" "$out/demo/candor.db" "$out/demo/model.json" > "$out/candor.toml"
./target/release/candor serve --config "$out/candor.toml" > "$out/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf -o /dev/null "$base/healthz" && break; sleep 0.2; done

# Sign in through the sign-in page, as a browser does: its form cookie and token, then the form.
curl -s -D "$out/form.headers" -o "$out/sign-in.html" "$base/sign-in"
form_cookie=$(sed -n 's/^set-cookie: \(__Host-candor-form=[^;]*\).*/\1/ip' "$out/form.headers" | tr -d '\r')
csrf=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$out/sign-in.html" | head -1)
curl -s -D "$out/session.headers" -o /dev/null -X POST "$base/sign-in" -H "cookie: $form_cookie" \
    --data-urlencode "csrf=$csrf" --data-urlencode "scheme=cn_rid" --data-urlencode "number=$number" \
    --data-urlencode "passphrase=demo passphrase one" --data-urlencode "code="
session=$(sed -n 's/^set-cookie: \(__Host-candor-session=[^;]*\).*/\1/ip' "$out/session.headers" | tr -d '\r')
[ -n "$session" ] || { echo "signing in through the page failed"; cat "$out/session.headers"; exit 1; }

for page in /me /me/file /me/score /me/reads /me/consents /me/disputes /me/alerts /me/copy; do
    echo "== the page $page at a constant 100/s, 20 s (target: p99 < 50 ms)"
    ./target/release/candor-loadgen "$base$page" -H "cookie: $session" -H "accept-language: zh-CN" \
        --rate 100 --duration 20 --label "$page"
done
