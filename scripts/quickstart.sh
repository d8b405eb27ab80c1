#!/usr/bin/env bash
# The README's first command: set everything up (once), then run the main job, Lv3 with the embedded
# model, on the sample document shipped in samples/.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh
exec .venv/bin/engine run flows/lv3.yaml --doc samples/inventions.txt \
  --question "${1:-What vehicle was invented in the same century as the Fifth Symphony was composed?}"
