"""Polars and DuckDB scoring the exported scorecard SQL (CASE expressions) from Parquet to CSV.

Usage: score_speed.py SQL_FILE PARQUET OUT_DIR THREADS. Prints one JSON line per engine with
its wall time in seconds. The SELECT reads the table `applicants`.
"""
import json
import os
import sys
import time

sql_path, parquet, out_dir, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
os.environ["POLARS_MAX_THREADS"] = str(threads)
import duckdb  # noqa: E402
import polars as pl  # noqa: E402

sql = open(sql_path).read().strip().rstrip(";")

con = duckdb.connect()
con.execute(f"SET threads TO {threads}")
t0 = time.perf_counter()
con.execute(f"CREATE VIEW applicants AS SELECT * FROM read_parquet('{parquet}')")
con.execute(f"COPY ({sql}) TO '{out_dir}/duckdb.csv' (HEADER, DELIMITER ',')")
print(json.dumps({"tool": "duckdb", "seconds": time.perf_counter() - t0}))

t0 = time.perf_counter()
ctx = pl.SQLContext(applicants=pl.scan_parquet(parquet))
ctx.execute(sql).sink_csv(f"{out_dir}/polars.csv")
print(json.dumps({"tool": "polars", "seconds": time.perf_counter() - t0}))
