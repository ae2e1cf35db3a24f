"""optbinning's BinningProcess + Scorecard on the synthetic table: fit time and test AUC."""
import json
import sys
import time

import pandas as pd
from optbinning import BinningProcess, Scorecard
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

train_path, test_path = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
train = pd.read_parquet(train_path)
names = [c for c in train.columns if c not in ("id", "bad")]
categorical = [c for c in names if train[c].dtype == object]
process = BinningProcess(names, categorical_variables=categorical)
card = Scorecard(binning_process=process, estimator=LogisticRegression(), scaling_method="pdo_odds",
                 scaling_method_params={"pdo": 20, "odds": 50, "scorecard_points": 600})
card.fit(train[names], train["bad"])
fit_s = time.perf_counter() - t0
test = pd.read_parquet(test_path)
auc = roc_auc_score(test["bad"], card.predict_proba(test[names])[:, 1])
print(json.dumps({"tool": "optbinning", "fit_s": fit_s, "test_auc": auc}))
