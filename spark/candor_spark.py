"""Candor's batch jobs on an Apache Spark cluster, with Candor's own code doing the work.

    python spark/candor_spark.py score    --master URL --candor BIN --model M --data F.parquet --out DIR
    python spark/candor_spark.py features --master URL --candor BIN --db DB --as-of DAY --partitions N --out DIR
    python spark/candor_spark.py compare-scores   A.csv DIR
    python spark/candor_spark.py compare-features A.parquet DIR

Nothing is defined twice. Rescoring runs `candor score` inside each executor on its partition's
rows (`mapInArrow`): the scores, probabilities and reason codes, the minimum scoring criteria
and the treatment of unseen categories are the engine's, so the cluster's output equals
`candor score` row by row. Features run `candor features --partition K/N` in each task: the
feature catalogue in Rust stays the only definition, each task reads its share of the subjects
from the store and writes one Parquet part. The binary must be at the same path on every
worker (on one machine it is), and the store reachable from every worker (a PostgreSQL URL, or
a SQLite file on one machine).
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


def session(master, app):
    from pyspark.sql import SparkSession

    # The executors run this Python, whose packages (pyarrow) the jobs use.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

    return (
        SparkSession.builder.master(master)
        .appName(app)
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.executor.memory", "512m")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )


def model_id_column(model_path):
    import json

    with open(model_path, encoding="utf-8") as f:
        model = json.load(f)
    column = model.get("id_column")
    if not column:
        sys.exit(f"{model_path}: the model has no id column; fit it with --id so rows can be matched across partitions")
    return column


def score(args):
    """Scores a table on the cluster: `candor score` on each partition's rows."""
    id_column = model_id_column(args.model)
    spark = session(args.master, "candor-score")
    # CSV is read as text and handed on as text, so `candor score` parses every field as it
    # would the file's own; Parquet keeps its types.
    parquet = args.data.endswith(".parquet")
    frame = spark.read.parquet(args.data) if parquet else spark.read.csv(args.data, header=True)
    if args.partitions:
        frame = frame.repartition(args.partitions)
    candor, model = os.path.abspath(args.candor), os.path.abspath(args.model)

    def scored(table, d):
        """`candor score` on `table` in directory `d`: the path of its scores."""
        rows, scores = os.path.join(d, "rows.parquet" if parquet else "rows.csv"), os.path.join(d, "scores.csv")
        if parquet:
            pq.write_table(table, rows)
        else:
            pacsv.write_csv(table, rows)
        done = subprocess.run([candor, "score", "--model", model, "--data", rows, "--out", scores],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"candor score failed: {done.stderr}")
        return scores

    # The columns are whatever `candor score` writes for this model (a model with the bureau's
    # court and inquiry features has reasons beyond the fourth): asked of it, on one row.
    with tempfile.TemporaryDirectory(prefix="candor-score-") as d:
        with open(scored(frame.limit(1).toArrow(), d)) as f:
            names = next(csv.reader(f))
    if names[0] != id_column:
        sys.exit(f"candor score wrote {names}, not the id column {id_column} first")
    schema = ", ".join(f"`{n}` string" for n in names)

    def on_partition(batches):
        batches = list(batches)
        if not batches or sum(b.num_rows for b in batches) == 0:
            return
        with tempfile.TemporaryDirectory(prefix="candor-score-") as d:
            scores = scored(pa.Table.from_batches(batches), d)
            # Every field as text, exactly as `candor score` wrote it.
            options = pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=False)
            table = pacsv.read_csv(scores, convert_options=options)
            yield from table.select(names).to_batches()

    frame.mapInArrow(on_partition, schema).write.mode("overwrite").parquet(args.out)
    spark.stop()


def features(args):
    """Every subject's features on the cluster: `candor features --partition K/N` per task."""
    spark = session(args.master, "candor-features")
    candor, out, n = os.path.abspath(args.candor), os.path.abspath(args.out), args.partitions
    os.makedirs(out, exist_ok=True)
    for old in os.listdir(out):
        if old.startswith("part-"):
            os.remove(os.path.join(out, old))
    # Tasks run in the workers' own directories: a SQLite file is named by its absolute path.
    db = args.db if args.db.startswith(("postgres://", "postgresql://", "sqlite:")) else os.path.abspath(args.db)
    command = [candor, "features", "--db", db, "--as-of", args.as_of]
    if args.known_ms is not None:
        command += ["--known-ms", str(args.known_ms)]

    def run(k):
        part = os.path.join(out, f"part-{k:05}.parquet")
        done = subprocess.run(command + ["--partition", f"{k}/{n}", "--out", part], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"candor features (partition {k}/{n}) failed: {done.stderr}")
        return pq.read_metadata(part).num_rows

    counts = spark.sparkContext.parallelize(range(n), n).map(run).collect()
    spark.stop()
    print(f"{sum(counts)} subjects in {n} parts ({min(counts)} to {max(counts)} each) to {out}")


def read_dir(path, pattern_suffix):
    parts = sorted(os.path.join(path, p) for p in os.listdir(path) if p.endswith(pattern_suffix))
    if not parts:
        sys.exit(f"{path}: no {pattern_suffix} parts")
    return pa.concat_tables([pq.read_table(p) for p in parts]) if len(parts) > 1 else pq.read_table(parts[0])


def same_rows(label, expected, got, key):
    """Both tables sorted by `key`, compared row by row; exits on the first difference."""
    if expected.num_rows != got.num_rows:
        sys.exit(f"{label}: {expected.num_rows} rows expected, {got.num_rows} from the cluster")
    if sorted(expected.column_names) != sorted(got.column_names):
        sys.exit(f"{label}: columns {expected.column_names} expected, {got.column_names} from the cluster")
    got = got.select(expected.column_names)
    expected, got = expected.sort_by(key), got.sort_by(key)
    for name in expected.column_names:
        a, b = expected.column(name).to_pylist(), got.column(name).to_pylist()
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y and not (x != x and y != y):  # NaN equals NaN here
                sys.exit(f"{label}: row {expected.column(key)[i]} column {name}: {x!r} expected, {y!r} from the cluster")
    print(f"{label}: {expected.num_rows} rows, every column equal")


def compare_scores(args):
    with open(args.expected, encoding="utf-8") as f:
        names = next(csv.reader(f))
    # Every field as text, as `candor score` wrote it: an empty score is "", not a missing number.
    options = pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=False)
    reference = pacsv.read_csv(args.expected, convert_options=options)
    same_rows("scores", reference, read_dir(args.got, ".parquet"), reference.column_names[0])


def compare_features(args):
    same_rows("features", pq.read_table(args.expected), read_dir(args.got, ".parquet"), "subject")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    jobs = parser.add_subparsers(dest="job", required=True)
    s = jobs.add_parser("score")
    s.add_argument("--master", required=True)
    s.add_argument("--candor", required=True)
    s.add_argument("--model", required=True)
    s.add_argument("--data", required=True)
    s.add_argument("--partitions", type=int, default=0)
    s.add_argument("--out", required=True)
    f = jobs.add_parser("features")
    f.add_argument("--master", required=True)
    f.add_argument("--candor", required=True)
    f.add_argument("--db", required=True)
    f.add_argument("--as-of", required=True)
    f.add_argument("--known-ms", type=int)
    f.add_argument("--partitions", type=int, default=4)
    f.add_argument("--out", required=True)
    for name in ("compare-scores", "compare-features"):
        c = jobs.add_parser(name)
        c.add_argument("expected")
        c.add_argument("got")
    args = parser.parse_args()
    {"score": score, "features": features, "compare-scores": compare_scores, "compare-features": compare_features}[
        args.job
    ](args)


if __name__ == "__main__":
    main()
