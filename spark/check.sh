#!/usr/bin/env bash
# The Spark jobs on a real cluster, against Candor's own results (CI runs this after the tests):
# installs pyspark into a virtualenv of the project's, starts a standalone master and two
# workers on 127.0.0.1, builds a small bureau, then
#   - computes every subject's features on the cluster (candor features --partition K/N per
#     task) and compares them with `candor features`, subject by subject, column by column;
#   - rescores those features on the cluster and compares with `candor score`, row by row
#     (the minimum scoring criteria's `not_enough_history` included);
#   - rescores a CSV with categories the model never saw and compares likewise (`:unknown`);
# and stops the JVMs by their PIDs. Safe to run twice in a row.
#   CANDOR_BIN  the candor binary (default target/debug/candor, which `cargo test` builds)
set -euo pipefail
cd "$(dirname "$0")/.."
candor=${CANDOR_BIN:-target/debug/candor}
[ -x "$candor" ] || cargo build --quiet --bin candor
venv=target/ci-spark
if ! "$venv/bin/python" -c 'import pyspark, pyarrow, pandas' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'pyspark==4.3.0' 'pandas<3' pyarrow
fi
work=target/spark-check
rm -rf "$work"
mkdir -p "$work"
run=$work/cluster
trap 'spark/cluster.sh stop "$run"' EXIT
started=$(date +%s)
master=$(spark/cluster.sh start "$venv" "$run" 2)
echo "spark: cluster $master up in $(( $(date +%s) - started )) s"
job() { "$venv/bin/python" spark/candor_spark.py "$@"; }

"$candor" demo --no-serve --subjects 3000 --dir "$work/demo" > /dev/null 2>&1
db=$work/demo/candor.db as_of=2026-11-30 known=$(date +%s000)
"$candor" features --db "$db" --as-of "$as_of" --known-ms "$known" --out "$work/features.parquet" > /dev/null
job features --master "$master" --candor "$candor" --db "$db" --as-of "$as_of" --known-ms "$known" \
    --partitions 4 --out "$work/cluster-features"
job compare-features "$work/features.parquet" "$work/cluster-features"

"$candor" score --model "$work/demo/model.json" --data "$work/features.parquet" --out "$work/scores.csv" 2> /dev/null
grep -q not_enough_history "$work/scores.csv" || { echo "spark: the check needs people without a score"; exit 1; }
job score --master "$master" --candor "$candor" --model "$work/demo/model.json" --data "$work/features.parquet" \
    --partitions 4 --out "$work/cluster-scores"
job compare-scores "$work/scores.csv" "$work/cluster-scores"

# The German credit data with a row id, one row in seven given a purpose never seen in training.
"$venv/bin/python" - "$work" <<'EOF'
import csv, sys
work = sys.argv[1]
with open("data/germancredit.csv", newline="") as f:
    rows = list(csv.reader(f))
header, body = rows[0], rows[1:]
purpose = header.index("purpose")
with open(f"{work}/german.csv", "w", newline="") as f:
    csv.writer(f).writerows([["row"] + header] + [[f"R{i:04}"] + r for i, r in enumerate(body)])
with open(f"{work}/german_unseen.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["row"] + header)
    for i, r in enumerate(body):
        r = list(r)
        if i % 7 == 0:
            r[purpose] = ["spaceship", "Car (New)", "holiday"][i % 3]
        w.writerow([f"R{i:04}"] + r)
EOF
"$candor" fit --data "$work/german.csv" --target creditability --id row --out "$work/german.json" > /dev/null 2>&1
"$candor" score --model "$work/german.json" --data "$work/german_unseen.csv" --out "$work/german_scores.csv" 2> /dev/null
grep -q ':unknown' "$work/german_scores.csv" || { echo "spark: the check needs unseen categories among the reasons"; exit 1; }
job score --master "$master" --candor "$candor" --model "$work/german.json" --data "$work/german_unseen.csv" \
    --partitions 3 --out "$work/cluster-german"
job compare-scores "$work/german_scores.csv" "$work/cluster-german"
echo "spark: all checks passed in $(( $(date +%s) - started )) s"
