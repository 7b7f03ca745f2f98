"""The tests' one helm driver: render `charts/vllm` with the real `helm template` for the chart tests
(test_chart*, alert rules, dashboard), and answer the program's `kubernetes:helm:template` invokes
(`helm_template`), always for one Kubernetes version, KUBE_VERSION.

Every shipped stack and region gets its values from `infra.chart_values.vllm_values`, as the
program passes them, plus one scale-to-zero variant (the shipped stacks keep a warm floor) so the
CloudWatch activation triggers and their TriggerAuthentication are rendered and checked too.
"""

from __future__ import annotations

import functools
import json
import pathlib
import subprocess
import tempfile

import yaml

from infra.chart_values import vllm_values
from infra.conventions import HUGGINGFACE_TOKEN_SECRET_NAME, VLLM_NAMESPACE
from infra.spec import KUBERNETES_VERSIONS, RegionSpec, StackSpec, load_stack_file
from tests.tools import helm_path
from tests.paths import ROOT

CHART = ROOT / "charts" / "vllm"
STACK_FILES = sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))
KUBE_VERSION = KUBERNETES_VERSIONS[0]
"""Every `helm template` of the tests renders for the oldest Kubernetes the project supports (the strict
schema checks of test_chart cover every supported version)."""
RELEASE = "vllm"
NAMESPACE = VLLM_NAMESPACE
PROMETHEUS_URL = "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"
# Illustrative ARN suffixes of an ALB and its target group (the shapes CloudWatch dimensions take).
LB_ARN_SUFFIX = "app/use1-lb/50dc6c495c0c9188"
TG_ARN_SUFFIX = "targetgroup/use1-vllm/73e2d6bc24d8a067"
# ... and the full ARN of that target group and its VPC, for the TargetGroupBinding the program renders.
TG_ARN = f"arn:aws:elasticloadbalancing:us-east-1:123456789012:{TG_ARN_SUFFIX}"
VPC_ID = "vpc-0a1b2c3d4e5f67890"
GPU_NODE_PRICE_USD = 1.861
# Illustrative outputs of a region's WeightsMirror (bucket_prefix + S3's 26-character unique suffix, role ARNs).
MIRROR_ACCOUNT = "123456789012"


def mirror_outputs(region: RegionSpec) -> dict:
    short = region.region.replace("-", "")
    return {
        "bucket": f"stack-{short}-weights-20261130120000000000000001",
        "reader_role_arn": f"arn:aws:iam::{MIRROR_ACCOUNT}:role/{short}-weights-reader",
        "writer_role_arn": f"arn:aws:iam::{MIRROR_ACCOUNT}:role/{short}-weights-writer",
    }


def stack_name(path: pathlib.Path) -> str:
    return path.name[len("Pulumi."):-len(".yaml")]


@functools.cache
def stack(name: str) -> StackSpec:
    return load_stack_file(ROOT / "stacks" / f"Pulumi.{name}.yaml")


def scale_to_zero_stack() -> StackSpec:
    """The dev stack with scale-to-zero on (and a Hugging Face token): the variant no shipped stack has."""
    dev = stack("dev")
    return dev.model_copy(update={"autoscaling": dev.autoscaling.model_copy(update={"scale_to_zero": True})})


def weights_mirror_stack() -> StackSpec:
    """The dev stack (8B, under the auto line) with `model.weightsMirror: true`: the mirror with a Hugging Face token."""
    dev = stack("dev")
    return dev.model_copy(update={"model": dev.model.model_copy(update={"weights_mirror": True})})


def cases() -> list[tuple[str, StackSpec, RegionSpec, dict]]:
    """(case id, spec, region, values) for every shipped stack and region, plus the scale-to-zero variant."""
    out = []
    for path in STACK_FILES:
        spec = stack(stack_name(path))
        for region in spec.regions:
            values = vllm_values(spec, region, prometheus_url=PROMETHEUS_URL, gpu_hourly_price_usd=GPU_NODE_PRICE_USD,
                                 target_group_arn=TG_ARN, vpc_id=VPC_ID,
                                 weights_mirror=mirror_outputs(region))
            out.append((f"{stack_name(path)}-{region.region}", spec, region, values))
    spec = weights_mirror_stack()
    values = vllm_values(spec, spec.regions[0], prometheus_url=PROMETHEUS_URL, gpu_hourly_price_usd=None,
                         huggingface_token_secret=HUGGINGFACE_TOKEN_SECRET_NAME, weights_mirror=mirror_outputs(spec.regions[0]),
                         target_group_arn=TG_ARN, vpc_id=VPC_ID)
    out.append(("dev-weights-mirror", spec, spec.regions[0], values))
    spec = scale_to_zero_stack()
    values = vllm_values(
        spec, spec.regions[0], prometheus_url=PROMETHEUS_URL, gpu_hourly_price_usd=None,
        load_balancer_arn_suffix=LB_ARN_SUFFIX, target_group_arn_suffix=TG_ARN_SUFFIX,
        huggingface_token_secret=HUGGINGFACE_TOKEN_SECRET_NAME, target_group_arn=TG_ARN, vpc_id=VPC_ID,
        weights_mirror=mirror_outputs(spec.regions[0]),
    )
    out.append(("dev-scale-to-zero", spec, spec.regions[0], values))
    return out


def helm(*args: str, values: dict | None = None) -> subprocess.CompletedProcess:
    """Run helm with `values` written to a temporary file; returns the completed process (never raises).
    `helm template` and `helm lint` render for KUBE_VERSION unless the arguments name another version."""
    if args and args[0] in ("template", "lint") and "--kube-version" not in args:
        args = (*args, "--kube-version", KUBE_VERSION)
    with tempfile.TemporaryDirectory() as tmp:
        extra = []
        if values is not None:
            path = pathlib.Path(tmp) / "values.json"
            path.write_text(json.dumps(values))
            extra = ["-f", str(path)]
        return subprocess.run([helm_path(), *args, *extra], capture_output=True, text=True, timeout=60)


def helm_template(opts: dict) -> list[dict]:
    """Answer the `kubernetes:helm:template` invoke with the real `helm template` of a local chart.

    `opts` is the invoke's jsonOpts (`LocalChartOpts` fields plus `release_name`). A chart path that
    does not exist yet renders nothing, as `run_program(helm_template=None)` does.
    """
    path = pathlib.Path(opts["path"])
    path = path if path.is_absolute() else ROOT / path
    if not (path / "Chart.yaml").is_file():
        return []
    args = ["template", opts["release_name"], str(path), "--namespace", opts.get("namespace") or "default"]
    if opts.get("kube_version"):
        args += ["--kube-version", opts["kube_version"]]
    for api_version in opts.get("api_versions") or []:
        args += ["--api-versions", api_version]
    if not opts.get("include_test_hook_resources"):
        args.append("--skip-tests")  # Pulumi's helm v3 Chart leaves test hooks out by default
    done = helm(*args, values=opts.get("values") or {})
    if done.returncode:
        raise RuntimeError(f"helm template {path} failed: {done.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


@functools.cache
def _render_cached(values_json: str) -> tuple[dict, ...]:
    result = helm("template", RELEASE, str(CHART), "--namespace", NAMESPACE, values=json.loads(values_json))
    if result.returncode != 0:
        raise AssertionError(f"helm template failed: {result.stderr.strip()}")
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def render(values: dict) -> list[dict]:
    """The chart's objects for `values` (cached: rendering the same values twice runs helm once)."""
    return [json.loads(json.dumps(o)) for o in _render_cached(json.dumps(values, sort_keys=True))]


def render_error(values: dict) -> str:
    """helm template's error output for values the chart must refuse ("" if it rendered)."""
    result = helm("template", RELEASE, str(CHART), "--namespace", NAMESPACE, values=values)
    return "" if result.returncode == 0 else result.stderr


def by_kind(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def one(objects: list[dict], kind: str) -> dict:
    found = by_kind(objects, kind)
    assert len(found) == 1, f"expected one {kind}, got {[o['metadata']['name'] for o in found]}"
    return found[0]
