"""The credit file's benchmarks (bench/run file): simulate a population, ingest it into SQLite
(durable at each 10,000-report batch) and PostgreSQL, compute every subject's features, and read
Metro 2. Standard library only. Targets: ingest >= 100,000 reports/s into SQLite, Metro 2 >= 200
MB/s, features for 1,000,000 subjects <= 60 s with bounded memory.

Environment: BENCH_SUBJECTS (default 1000000), BENCH_MONTHS (12), BENCH_PG_FILES (files ingested
into PostgreSQL, default 200), DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres).
"""
import glob
import json
import os
import re
import shutil
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out", "file")
CANDOR = os.path.join(HERE, "..", "target", "release", "candor")
METRO2 = os.path.join(HERE, "..", "target", "release", "examples", "metro2_rate")
KEYS = {"CANDOR_IDENTITY_KEY": "1" * 64, "CANDOR_SEALING_KEY": "2" * 64, "CANDOR_LOG_KEY": "3" * 64}


def timed(cmd):
    t0 = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True, env={**os.environ, **KEYS})
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} ... failed:\n{r.stderr[-2000:]}")
    return wall, int(r.stderr.strip().splitlines()[-1]) / 1024, r.stdout


def reports_in(summary):
    return int(re.search(r"(\d+) reports", summary.splitlines()[-1]).group(1))


def main():
    subjects = int(os.environ.get("BENCH_SUBJECTS", "1000000"))
    months = os.environ.get("BENCH_MONTHS", "12")
    pg_files = int(os.environ.get("BENCH_PG_FILES", "200"))
    pg = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    pop = os.path.join(OUT, "pop")

    wall, _, out = timed([CANDOR, "simulate", "--subjects", str(subjects), "--months", months, "--out", pop])
    files = sorted(glob.glob(os.path.join(pop, "batches", "*.jsonl")))
    size = sum(os.path.getsize(f) for f in files) / 1e9
    print(f"simulate {subjects} people x {months} months: {wall:.1f} s, {len(files)} files, {size:.1f} GB")

    db = os.path.join(OUT, "file.db")
    # Each ingestion starts with nothing of the step before still being written back to disk
    # (the simulation's 6 GB, the SQLite store's 3 GB): those writes would compete with its own
    # commits' flushes and bill it for the step before.
    os.sync()
    wall, rss, out = timed([CANDOR, "ingest", "--db", db, *files])
    n = reports_in(out)
    print(f"ingest SQLite: {n} reports in {wall:.1f} s = {n / wall:,.0f} reports/s (target 100,000), peak {rss:.0f} MiB")
    stored = sum(os.path.getsize(p) for p in glob.glob(db + "*"))
    print(f"stored SQLite: {stored / 1e9:.2f} GB = {stored / n:.0f} bytes per report, every table and index with it")

    schema = "candor_bench"
    subprocess.run(["psql", pg, "-q", "-c", f"DROP SCHEMA IF EXISTS {schema} CASCADE"], check=True, capture_output=True)
    some = files[:pg_files]
    sep = "&" if "?" in pg else "?"
    os.sync()
    wall, _, out = timed([CANDOR, "ingest", "--db", f"{pg}{sep}schema={schema}", *some])
    m = reports_in(out)
    print(f"ingest PostgreSQL: {m} reports ({len(some)} files, the schema created first) in {wall:.1f} s = {m / wall:,.0f} reports/s (target 200,000)")
    size_sql = (f"SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                f"WHERE n.nspname = '{schema}' AND c.relkind = 'r'")
    stored = int(subprocess.run(["psql", pg, "-tA", "-c", size_sql], check=True, capture_output=True, text=True).stdout.strip() or 0)
    print(f"stored PostgreSQL: {stored / 1e9:.2f} GB = {stored / m:.0f} bytes per report, every table and index with it")
    subprocess.run(["psql", pg, "-q", "-c", f"DROP SCHEMA IF EXISTS {schema} CASCADE"], check=True, capture_output=True)

    wall, rss, out = timed([CANDOR, "features", "--db", db, "--as-of", "2026-09-30",
                            "--outcomes", os.path.join(pop, "outcomes.csv"), "--out", os.path.join(OUT, "features.parquet")])
    print(f"features: {out.strip()} in {wall:.1f} s (target <= 60 s for 1,000,000), peak {rss:.0f} MiB")

    t0 = time.perf_counter()
    r = subprocess.run([CANDOR, "fit", "--data", os.path.join(OUT, "features.parquet"), "--target", "bad", "--id", "subject",
                        "--out", os.path.join(OUT, "model.json"), "--report", os.path.join(OUT, "report.html")],
                       capture_output=True, text=True, check=True)
    auc = next((l for l in r.stderr.splitlines() + r.stdout.splitlines() if l.startswith("AUC")), "")
    print(f"fit on those features: {time.perf_counter() - t0:.2f} s; {auc}")

    timed([CANDOR, "log", "checkpoint", "--db", db])
    wall, rss, out = timed([CANDOR, "audit", "verify", "--db", db])
    print(f"audit: every row of every batch recomputed against the log in {wall:.1f} s, peak {rss:.0f} MiB: {out.strip().splitlines()[-1]}")

    for r in json.loads(subprocess.run([METRO2, "200000"], capture_output=True, text=True, check=True).stdout):
        print(f"Metro 2 read, {r['form']}: {r['bytes'] / 1e6:.0f} MB in {r['seconds']:.2f} s = {r['mb_per_second']:.0f} MB/s (target 200)")


if __name__ == "__main__":
    main()
