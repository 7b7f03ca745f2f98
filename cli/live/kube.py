"""One Kubernetes API client per region of a stack, and the few reads `status` and `--wait` share.

Where a region's API comes from, in order:
- `--kubeconfig FILE` (any kubeconfig; `--context CTX` for a one-region stack, `--context REGION=CTX` per
  region otherwise, else the file's current context for a one-region stack);
- else the stack's `kubeconfigs` output (region -> kubeconfig JSON, `infra/program.py`), read through Pulumi's
  Automation API (`stack_kubeconfigs`): that needs the Pulumi CLI, a backend login and the stack's state, so no
  test here runs it; everything after it takes plain kubeconfig dicts and is tested against a loopback API.

The `kubernetes` package is imported only in the functions that talk to a cluster: `estimate`, `validate` and the
other offline commands never load it.
"""

from __future__ import annotations

import difflib
import json
import pathlib
from dataclasses import dataclass
from typing import Any

import yaml

from cli.errors import CliError, failed
from cli.render.safe import paths_shown, shown_path
from infra.conventions import VLLM_CHART_NAME, VLLM_NAMESPACE
from infra.spec import StackSpec

# The vLLM chart's selector label (charts/vllm/templates/_helpers.tpl `vllm.selectorLabels`): its Deployment,
# ReplicaSets, pods and Service carry it whatever the release is called.
VLLM_SELECTOR = f"app.kubernetes.io/name={VLLM_CHART_NAME}"
NAMESPACE = VLLM_NAMESPACE
# One API request may take this long (seconds) before the region is reported unreachable.
REQUEST_TIMEOUT_SECONDS = 20


@dataclass
class Cluster:
    """One region's API: `client` is a `kubernetes.client.ApiClient`; `source` says where its config came from."""

    region: str
    client: Any
    source: str


def parse_contexts(values: list[str] | None, spec: StackSpec, regions: list[str] | None = None) -> dict[str | None, str]:
    """`--context CTX` (key None: the one region asked for) or `--context REGION=CTX` per region.
    `regions`: the regions the command reaches (default: all of the stack's)."""
    known = [r.region for r in spec.regions]
    wanted = regions or known
    out: dict[str | None, str] = {}
    for value in values or []:
        region, sep, context = value.partition("=")
        if not sep:
            if len(wanted) > 1:
                raise CliError(f"--context {shown_path(value)}: this stack has {len(wanted)} regions ({', '.join(wanted)}); "
                               "give --context REGION=CONTEXT for each")
            region, context = None, value
        elif region not in known:
            near = difflib.get_close_matches(region, known, n=1)
            hint = f"did you mean {near[0]}? " if near else ""
            raise CliError(f"--context {shown_path(value)}: {shown_path(region)} is not a region of this stack; {hint}"
                           f"(its regions: {', '.join(known)})")
        if not context:
            raise CliError(f"--context {shown_path(value)}: no context name")
        if region in out:
            raise CliError(f"--context: two contexts for {region or 'the region'}")
        out[region] = context
    return out


def read_kubeconfig(path: pathlib.Path) -> dict:
    """A kubeconfig file as a dict; a missing, unreadable or malformed file is bad input naming --kubeconfig."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise CliError(f"--kubeconfig {str(path)!r}: cannot read it ({getattr(err, 'strerror', None) or err})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise CliError(f"--kubeconfig {str(path)!r}: not YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(data, dict) or not isinstance(data.get("contexts"), list):
        raise CliError(f"--kubeconfig {str(path)!r}: not a kubeconfig (no `contexts` list)")
    return data


def _context_names(config: dict) -> list[str]:
    # a name that is not text (a YAML number) names no context: the client looks contexts up by string
    return [c["name"] for c in config.get("contexts", []) if isinstance(c, dict) and isinstance(c.get("name"), str)
            and c["name"]]


def _shown_names(config: dict) -> str:
    """The kubeconfig's context names for an error, each shown as a user-given name is (`shown_path`)."""
    return ", ".join(shown_path(name) for name in _context_names(config)) or "none"


def _check_context(config: dict, context: str, where: str) -> None:
    names = _context_names(config)
    if context not in names:
        near = difflib.get_close_matches(context, names, n=1)
        hint = f"did you mean {shown_path(near[0])}? " if near else ""
        raise CliError(f"--context {shown_path(context)}: no such context in {where}; {hint}(its contexts: "
                       f"{_shown_names(config)})")


def plan_contexts(config: dict, contexts: dict[str | None, str], spec: StackSpec, where: str,
                  regions: list[str] | None = None) -> dict[str, str]:
    """Region -> context name for each region of `regions` (default: all), every one checked against the file;
    a lone region may use the file's current context."""
    wanted = regions or [r.region for r in spec.regions]
    if None in contexts:
        contexts = {wanted[0]: contexts[None]}
    missing = [r for r in wanted if r not in contexts]
    if missing and len(wanted) > 1:
        raise CliError(f"--kubeconfig {where}: give --context REGION=CONTEXT for {', '.join(missing)} "
                       f"(its contexts: {_shown_names(config)})")
    plan: dict[str, str] = {}
    for region in wanted:
        context = contexts.get(region)
        if context is None:
            context = config.get("current-context")
            if not context:
                raise CliError(f"--kubeconfig {where}: it has no current-context; give --context")
            if not isinstance(context, str):
                raise CliError(f"--kubeconfig {where}: its current-context {shown_path(context)} is not a context "
                               "name; give --context")
        _check_context(config, context, where)
        plan[region] = context
    return plan


def _client(config: dict, context: str | None):
    from kubernetes import config as kube_config

    try:
        return kube_config.new_client_from_config_dict(config, context=context, persist_config=False)
    except (kube_config.ConfigException, ValueError, TypeError, KeyError) as err:
        raise CliError(paths_shown(f"kubeconfig context {shown_path(context)}: {err}", context)) from None


def clusters_from_file(path: pathlib.Path, context_values: list[str] | None, spec: StackSpec,
                       regions: list[str] | None = None) -> dict[str, Cluster]:
    """`--kubeconfig FILE [--context ...]`: one client per region (or per region of `regions`)."""
    config = read_kubeconfig(path)
    plan = plan_contexts(config, parse_contexts(context_values, spec, regions), spec, repr(str(path)), regions)
    return {region: Cluster(region, _client(config, context), f"{shown_path(path)} context {shown_path(context)}") for region, context in plan.items()}


def clusters_from_outputs(kubeconfigs: dict[str, Any], spec: StackSpec, stack: str,
                          regions: list[str] | None = None) -> dict[str, Cluster]:
    """One client per region from the stack's `kubeconfigs` output (region -> kubeconfig JSON or dict)."""
    out = {}
    for region in [r.region for r in spec.regions]:
        if regions is not None and region not in regions:
            continue
        raw = kubeconfigs.get(region)
        if raw is None:
            raise failed(f"stack {shown_path(stack)}: its `kubeconfigs` output has no {region} (run `pulumi up` first, or give "
                         "--kubeconfig)")
        try:
            config = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            config = None
        if not isinstance(config, dict):
            raise failed(f"stack {shown_path(stack)}: its `kubeconfigs` output for {region} is not a kubeconfig; give --kubeconfig")
        out[region] = Cluster(region, _client(config, config.get("current-context")), f"stack {shown_path(stack)} output kubeconfigs")
    return out


def stack_kubeconfigs(stack: str, work_dir: pathlib.Path) -> dict[str, Any]:
    """The stack's `kubeconfigs` output through Pulumi's Automation API (needs the Pulumi CLI and the stack's
    backend; not run by the tests, which give --kubeconfig)."""
    import shutil

    if shutil.which("pulumi") is None:
        raise failed(f"reading stack {shown_path(stack)}'s kubeconfigs needs the Pulumi CLI, which is not on PATH; "
                     "give --kubeconfig FILE (and --context) instead")
    from pulumi import automation

    try:
        outputs = automation.select_stack(stack_name=stack, work_dir=str(work_dir)).outputs()
    except Exception as err:  # StackNotFoundError, CommandError (no login), ...
        raise failed(f"cannot read the outputs of stack {shown_path(stack)}: {err}; give --kubeconfig FILE instead") from None
    if "kubeconfigs" not in outputs:
        raise failed(f"stack {shown_path(stack)} has no `kubeconfigs` output (run `pulumi up` first, or give --kubeconfig)")
    return dict(outputs["kubeconfigs"].value)


def clusters(spec: StackSpec, stack: str, work_dir: pathlib.Path, kubeconfig: pathlib.Path | None,
             context_values: list[str] | None, regions: list[str] | None = None) -> dict[str, Cluster]:
    """The clients a command uses: from --kubeconfig, else from the stack's outputs."""
    if kubeconfig is not None:
        return clusters_from_file(kubeconfig, context_values, spec, regions)
    if context_values:
        raise CliError("--context needs --kubeconfig (the stack's own kubeconfigs have one context each)")
    return clusters_from_outputs(stack_kubeconfigs(stack, work_dir), spec, stack, regions)


def api_error(region: str, what: str, err: Exception) -> CliError:
    """An API call that failed: exit 1 naming the region, the call and the API's reason."""
    status = getattr(err, "status", None)
    reason = getattr(err, "reason", None)
    if status:
        body = getattr(err, "body", None) or ""
        try:
            message = json.loads(body).get("message") or reason
        except (ValueError, AttributeError):
            message = reason
        return failed(f"{region}: {what}: the Kubernetes API answered {status} {message}")
    return failed(f"{region}: {what}: cannot reach the Kubernetes API ({type(err).__name__}: {str(err)[:200]})")


def call(region: str, what: str, fn, *args, missing_ok: bool = False, **kwargs):
    """One API call with the request timeout; any failure becomes `api_error` (404 is None with `missing_ok`)."""
    kwargs.setdefault("_request_timeout", REQUEST_TIMEOUT_SECONDS)
    try:
        return fn(*args, **kwargs)
    except Exception as err:  # ApiException, urllib3 errors, a refused connection
        if missing_ok and getattr(err, "status", None) == 404:
            return None
        raise api_error(region, what, err) from None


def as_dict(client: Any, obj: Any) -> dict:
    """A model object as the API's camelCase JSON dict (custom objects already are dicts)."""
    return obj if isinstance(obj, dict) else client.sanitize_for_serialization(obj)
