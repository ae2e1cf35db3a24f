#!/usr/bin/env bash
# A standalone Spark cluster on this machine, on 127.0.0.1 only: a master and WORKERS workers
# (default 2, one core and 1 GiB each), started with the pyspark package's own spark-class.
#   spark/cluster.sh start VENV RUNDIR [WORKERS]   prints the master's URL once every worker is up
#   spark/cluster.sh stop RUNDIR                   stops the JVMs by the PIDs it wrote
set -euo pipefail

stop() {
    local run=$1
    [ -d "$run" ] || return 0
    for pidfile in "$run"/*.pid; do
        [ -f "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$pidfile"
    done
}

case "${1:-}" in
start)
    venv=$(cd "$2" && pwd) run=$3 workers=${4:-2}
    mkdir -p "$run"
    stop "$run"
    home=$("$venv/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
    export SPARK_HOME=$home SPARK_LOCAL_IP=127.0.0.1 SPARK_LOCAL_HOSTNAME=localhost SPARK_NO_DAEMONIZE=1
    export SPARK_LOG_DIR=$run/logs SPARK_WORKER_DIR=$run/work PYSPARK_PYTHON=$venv/bin/python
    mkdir -p "$SPARK_LOG_DIR" "$SPARK_WORKER_DIR"
    # Free ports, so a run beside another (or one whose JVMs linger) does not collide.
    port() { "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
    master_port=$(port)
    "$home/bin/spark-class" org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$master_port" \
        --webui-port "$(port)" > "$run/logs/master.out" 2>&1 &
    echo $! > "$run/master.pid"
    url=spark://127.0.0.1:$master_port
    for w in $(seq "$workers"); do
        "$home/bin/spark-class" org.apache.spark.deploy.worker.Worker "$url" --host 127.0.0.1 --cores 1 \
            --memory 1g --port "$(port)" --webui-port "$(port)" --work-dir "$run/work/$w" > "$run/logs/worker-$w.out" 2>&1 &
        echo $! > "$run/worker-$w.pid"
    done
    # Up when the master has registered every worker.
    for _ in $(seq 120); do
        registered=$(grep -c "Registering worker" "$run/logs/master.out" 2>/dev/null || true)
        [ "${registered:-0}" -ge "$workers" ] && { echo "$url"; exit 0; }
        for pidfile in "$run"/*.pid; do
            kill -0 "$(cat "$pidfile")" 2>/dev/null || { echo "a Spark JVM stopped:" >&2; tail -20 "$run"/logs/*.out >&2; stop "$run"; exit 1; }
        done
        sleep 0.5
    done
    echo "the Spark cluster did not come up in 60 s" >&2
    tail -20 "$run"/logs/*.out >&2
    stop "$run"
    exit 1
    ;;
stop)
    stop "$2"
    ;;
*)
    echo "usage: spark/cluster.sh start VENV RUNDIR [WORKERS] | stop RUNDIR" >&2
    exit 2
    ;;
esac
