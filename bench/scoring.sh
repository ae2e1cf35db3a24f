# Sourced by bench/service.sh and bench/ab.sh: a server of BUILD on a store, ready for consented
# score requests from the demo shop.
#
# serve_scores BUILD PORT DB SHOP_KEY OUT NUMBER: writes OUT/candor-PORT.toml (the per-key and
# per-address limits lifted: the load generator is one key on 127.0.0.1), starts the server
# (its pid in `pid`, its log in OUT/serve-PORT.log), waits for /healthz, has the demo person
# NUMBER (enrolled now if the store knows their file but not their enrolment) consent to the
# shop, checks one score, and writes the wrk script OUT/score-PORT.lua. Exits on any failure.
serve_scores() {
    local bin=$1 port=$2 db=$3 shop=$4 out=$5 number=$6
    local base=http://127.0.0.1:$port log="$out/serve-$port.log"
    local credentials="{\"scheme\":\"cn_rid\",\"number\":\"$number\",\"passphrase\":\"demo passphrase one\"}"
    local body="{\"scheme\":\"cn_rid\",\"number\":\"$number\",\"purpose\":\"deposit_waiver\"}"
    printf 'listen = "127.0.0.1:%s"\ndb = "%s"\nmodel = "%s"\nrequests_per_minute = 100000000\nmax_connections_per_address = 512\n' \
        "$port" "$db" "$out/demo/model.json" > "$out/candor-$port.toml"
    "$bin" serve --config "$out/candor-$port.toml" > "$log" 2>&1 &
    pid=$!
    # Ready when /healthz answers; a server that stopped shows its log.
    local ready=
    for _ in $(seq 100); do
        curl -sf -o /dev/null "$base/healthz" && { ready=1; break; }
        kill -0 $pid 2>/dev/null || { echo "the server stopped:"; cat "$log"; exit 1; }
        sleep 0.2
    done
    [ -n "$ready" ] || { echo "the server did not come up"; exit 1; }
    local token
    token=$(curl -s -X POST $base/v1/sessions -H 'content-type: application/json' -d "$credentials" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
    if [ -z "$token" ]; then
        local code
        code=$("$bin" subject invite --db "$db" --scheme cn_rid --number "$number" 2>/dev/null)
        curl -s -o /dev/null -X POST $base/v1/subjects -H 'content-type: application/json' \
            -d "{\"scheme\":\"cn_rid\",\"number\":\"$number\",\"activation_code\":\"$code\",\"passphrase\":\"demo passphrase one\"}"
        token=$(curl -s -X POST $base/v1/sessions -H 'content-type: application/json' -d "$credentials" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
    fi
    curl -s -o /dev/null -X POST $base/v1/me/consents -H "authorization: Bearer $token" -H 'content-type: application/json' \
        -d "{\"org\":\"demo-shop\",\"purpose\":\"deposit_waiver\",\"until\":\"$(date -u -d '+1 year' +%F)\"}"
    local status
    status=$(curl -s -o "$out/first-$port.json" -w '%{http_code}' -X POST $base/v1/scores -H "authorization: Bearer $shop" -H 'content-type: application/json' -d "$body")
    [ "$status" = 200 ] || { echo "the first score request answered $status: $(cat "$out/first-$port.json")"; exit 1; }
    printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["content-type"] = "application/json"\nwrk.headers["authorization"] = "Bearer %s"\n' \
        "'$body'" "$shop" > "$out/score-$port.lua"
}
