#!/usr/bin/env bash
# The local Spark cluster at several sizes (bench/run scale): rescoring the seeded applicant
# table (250,000 and 1,000,000 rows) and features of simulated populations (10,000 and 40,000
# people, SQLite), each with one worker and with two (one core each), beside `candor score` and
# `candor features` alone; prints the seconds, the rates, and how time grows with rows and with
# workers. The inputs of docs/scale.md's projection. Takes about 10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=bench/.venv-spark
if ! "$venv/bin/python" -c 'import pyspark, pyarrow, pandas, numpy' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'pyspark==4.3.0' 'pandas<3' pyarrow numpy
fi
cargo build --release --quiet --bin candor
candor=$PWD/target/release/candor
out=bench/out/scale
rm -rf "$out"
mkdir -p "$out"
run=$out/cluster
trap 'spark/cluster.sh stop "$run"' EXIT
seconds() { local t0=$1; "$venv/bin/python" -c "import time; print(f'{time.time() - $t0:.2f}')"; }
now() { "$venv/bin/python" -c 'import time; print(time.time())'; }
job() { "$venv/bin/python" spark/candor_spark.py "$@" > "$out/job.log" 2>&1 || { tail -30 "$out/job.log"; exit 1; }; }
results=$out/results.tsv
printf 'job\tsize\tworkers\tseconds\n' > "$results"

echo "== preparing: tables of 250,000 and 1,000,000 rows, populations of 10,000 and 40,000 people"
for rows in 250000 1000000; do
    "$venv/bin/python" bench/gen_data.py --rows "$rows" --test-rows 1000 --out "$out/t$rows" > /dev/null
done
"$candor" fit --data "$out/t250000/train.parquet" --target bad --id id --holdout 0 --out "$out/model.json" > /dev/null 2>&1
for people in 10000 40000; do
    "$candor" demo --no-serve --subjects "$people" --dir "$out/p$people" > /dev/null 2>&1
done
as_of=2026-11-30 known=$(date +%s000)

echo "== alone: candor score and candor features, one process"
for rows in 250000 1000000; do
    t=$(now); "$candor" score --model "$out/model.json" --data "$out/t$rows/train.parquet" --out "$out/alone.csv" 2> /dev/null
    printf 'score\t%s\t0\t%s\n' "$rows" "$(seconds "$t")" >> "$results"
done
for people in 10000 40000; do
    t=$(now); "$candor" features --db "$out/p$people/candor.db" --as-of $as_of --known-ms "$known" --out "$out/alone.parquet" > /dev/null 2>&1
    printf 'features\t%s\t0\t%s\n' "$people" "$(seconds "$t")" >> "$results"
done

for workers in 1 2; do
    echo "== Spark, $workers worker(s)"
    master=$(spark/cluster.sh start "$venv" "$run" "$workers")
    for rows in 250000 1000000; do
        t=$(now)
        job score --master "$master" --candor "$candor" --model "$out/model.json" --data "$out/t$rows/train.parquet" \
            --partitions $((workers * 2)) --out "$out/spark-scores"
        printf 'score\t%s\t%s\t%s\n' "$rows" "$workers" "$(seconds "$t")" >> "$results"
    done
    for people in 10000 40000; do
        t=$(now)
        job features --master "$master" --candor "$candor" --db "$out/p$people/candor.db" --as-of $as_of \
            --known-ms "$known" --partitions $((workers * 2)) --out "$out/spark-features"
        printf 'features\t%s\t%s\t%s\n' "$people" "$workers" "$(seconds "$t")" >> "$results"
    done
    spark/cluster.sh stop "$run"
done

"$venv/bin/python" - "$results" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
t = {(r["job"], int(r["size"]), int(r["workers"])): float(r["seconds"]) for r in rows}
unit = {"score": "rows", "features": "people"}
print(f"\n{'job':9} {'size':>9} {'workers':>8} {'seconds':>8} {'per second':>11}")
for (job, size, workers), s in sorted(t.items()):
    print(f"{job:9} {size:>9,} {('alone' if workers == 0 else workers):>8} {s:>8.2f} {size / s:>11,.0f}")
print()
for job in ("score", "features"):
    sizes = sorted({k[1] for k in t if k[0] == job})
    small, large = sizes[0], sizes[-1]
    for w in (0, 1, 2):
        if (job, small, w) in t and (job, large, w) in t:
            who = "alone" if w == 0 else f"{w} worker(s)"
            print(f"{job}, {who}: {large / small:.0f}x the {unit[job]} took {t[(job, large, w)] / t[(job, small, w)]:.2f}x the time")
    if (job, large, 1) in t and (job, large, 2) in t:
        print(f"{job}, {large:,} {unit[job]}: two workers {t[(job, large, 1)] / t[(job, large, 2)]:.2f}x as fast as one")
EOF
