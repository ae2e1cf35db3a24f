"""Seeded synthetic applicant table for the speed benchmarks.

34 characteristics (30 numeric, 4 categorical), some missing values and special values,
about 5% bad, driven by a latent risk so a scorecard has real signal to find. Writes
train.parquet and test.parquet (and CSV copies when asked) into the output folder.
"""
import argparse
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def make(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(rows)  # latent risk, higher is riskier
    cols = {"id": np.char.add("A", np.arange(rows).astype(str))}
    logit = -3.45 + 0.9 * z
    for j in range(30):
        strength = 0.15 + 0.85 * ((j * 7) % 10) / 10.0  # how much of the latent each carries
        noise = rng.standard_normal(rows)
        x = strength * z + np.sqrt(1 - min(strength, 0.95) ** 2) * noise
        kind = j % 5
        if kind == 0:
            x = np.exp(x)  # skewed, like balances
        elif kind == 1:
            x = np.round(x * 10 + 50)  # integer-valued, like ages or counts
        elif kind == 2:
            x = -x  # risk falls as it grows
        elif kind == 3:
            logit = logit + 0.25 * (x ** 2 - 1) * (j < 10)  # some U-shaped effects
        x = x.astype(np.float64)
        if j % 3 == 0:  # missing values, more often for risky rows in some columns
            p = 0.05 + (0.10 * (z > 1) if j % 2 == 0 else 0)
            x[rng.random(rows) < p] = np.nan
        if j % 7 == 0:  # a special value
            x[rng.random(rows) < 0.03] = -1.0
        cols[f"x{j:02d}"] = x
    for k, levels in enumerate([3, 6, 12, 20]):
        score = z * (0.5 + 0.3 * k) + rng.standard_normal(rows)
        edges = np.quantile(score, np.linspace(0, 1, levels + 1)[1:-1])
        codes = np.searchsorted(edges, score)
        names = np.array([f"c{k}_{i:02d}" for i in range(levels)])
        values = names[codes].astype(object)
        values[rng.random(rows) < 0.02] = None
        cols[f"cat{k}"] = values
    p = 1 / (1 + np.exp(-logit))
    cols["bad"] = (rng.random(rows) < p).astype(np.int8)
    # Missing numbers are Parquet nulls, as real files carry them (not NaN values).
    return pa.table({k: pa.array(v, from_pandas=True) for k, v in cols.items()})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--test-rows", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--out", default="out/data")
    ap.add_argument("--csv", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for name, rows, seed in [("train", a.rows, a.seed), ("test", a.test_rows, a.seed + 1)]:
        t = make(rows, seed)
        pq.write_table(t, os.path.join(a.out, f"{name}.parquet"))
        if a.csv:
            import pyarrow.csv as pcsv
            pcsv.write_csv(t, os.path.join(a.out, f"{name}.csv"))
        bad = np.asarray(t.column("bad")).mean()
        print(f"{name}: {rows} rows, bad rate {bad:.4f}")


if __name__ == "__main__":
    main()
