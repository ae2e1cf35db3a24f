#!/usr/bin/env bash
# The API contract, tried from outside: schemathesis (PyPI) reads the live /openapi.json and
# sends generated requests to every route, as a stranger and as every role (a person with a
# session, a merchant, a lender, a court, the ombudsman, an auditor, the operator), and fails
# on any 5xx and on any response the document does not describe: a status it does not list, a
# media type it does not name, or a body that breaks the route's response schema. Runs against a demo bureau (1,500 simulated people, a fitted model) in a fresh
# directory; the server is stopped by its PID.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/ci-schemathesis
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet schemathesis
fi
cargo build --quiet --bin candor
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
./target/debug/candor demo --no-serve --subjects 1500 --dir "$work/d" > "$work/demo.txt" 2> "$work/demo.err"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
CANDOR_LOG=warn ./target/debug/candor serve --db "$work/d/candor.db" --model "$work/d/model.json" --listen "127.0.0.1:$port" \
  > "$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  curl -sf -o /dev/null "$base/healthz" && break
  kill -0 $pid 2>/dev/null || { cat "$work/serve.log"; exit 1; }
  sleep 0.2
done
number=$(grep "^A person (subject)" "$work/demo.txt" | sed 's/.*cn_rid \([0-9X]*\),.*/\1/')
session=$(curl -s -X POST "$base/v1/sessions" -H 'content-type: application/json' \
  -d "{\"scheme\":\"cn_rid\",\"number\":\"$number\",\"passphrase\":\"demo passphrase one\"}" | sed 's/.*"token":"\([^"]*\)".*/\1/')
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
curl -sf "$base/openapi.json" > "$venv/openapi.json"
case $session in ses_*) ;; *) echo "the demo person could not sign in: $session"; exit 1 ;; esac
key() { grep "^$1" "$work/demo.txt" | awk '{print $NF}'; }
for who in stranger subject Merchant Lender Court Ombudsman Auditor Operator; do
  skip=()
  case $who in
    stranger) header="X-Caller: stranger" ;;
    # Withdrawing ends the session, and with it the rest of this run: it is tried as a stranger.
    subject) header="Authorization: Bearer $session"; skip=(--exclude-path /v1/me/enrolment) ;;
    *) header="Authorization: Bearer $(key "$who")" ;;
  esac
  echo "== schemathesis as $who"
  "$venv/bin/schemathesis" run "$base/openapi.json" --checks "$checks" -H "$header" "${skip[@]}" -n 10 --no-color \
    > "$work/st-$who.txt" 2>&1 || { cat "$work/st-$who.txt"; exit 1; }
  grep -E "generated" "$work/st-$who.txt" || true
done
