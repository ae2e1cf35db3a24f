"""Scores a CSV with a PMML model in JPMML-Evaluator: jpmml_score.py MODEL.pmml DATA.csv OUT.csv.

Writes score and reason1..reason4 per row, in input order (no score where the model gives none).
Empty fields are passed as missing."""
import csv
import sys

from jpmml_evaluator import make_evaluator

model, data, out = sys.argv[1:4]
evaluator = make_evaluator(model, backend="jpype").verify()
names = [f.getName() for f in evaluator.getInputFields()]
with open(data, newline="") as f, open(out, "w", newline="") as g:
    w = csv.writer(g)
    w.writerow(["score", "reason1", "reason2", "reason3", "reason4"])
    for row in csv.DictReader(f):
        args = {}
        for n in names:
            v = row.get(n, "").strip()
            if v in ("", "NA", "NaN", "null"):
                args[n] = None
            else:
                try:
                    args[n] = float(v)
                except ValueError:
                    args[n] = v
        r = evaluator.evaluate(args)
        score = r.get("score")
        # A row failing the model's minimum scoring criteria has no score.
        w.writerow(["" if score is None else int(round(score))] + [r.get(f"reason{i}") or "" for i in range(1, 5)])
