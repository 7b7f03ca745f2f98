#!/usr/bin/env bash
# Set up everything the tests need, then run the whole suite (2 workers: CI has 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --test
exec .venv/bin/python -m pytest -n 2 "$@"
