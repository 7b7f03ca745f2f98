"""Run the Pulumi program in-process under recording mocks: the list of resources it would create.

No Pulumi CLI, engine or cloud: `pulumi.runtime.set_mocks` swaps the engine for an in-process
monitor. Ours records every registration (type, name, wire inputs, parent, provider), answers the
invokes the program makes (availability zones, instance-type offerings, `helm template`) and
returns plausible outputs (ARNs, endpoints, ASG names) so dependent resources register too.
Each call runs in its own copy of the Pulumi context, so it can run again in the same process.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import hashlib
import json
import logging
import pathlib
import runpy
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as pulumi_resource_runtime
from pulumi.runtime import rpc
from google.protobuf import struct_pb2
from pulumi.runtime.proto import resource_pb2, source_pb2
from pulumi.runtime.settings import SETTINGS, set_root_resource
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from cli.collector import fewer_collections
from cli.planned import PlannedResource
from infra.spec import NAMESPACE, PROJECT, SECRET_KEYS, StackSpec, parse_stack_config

HelmTemplate = Callable[[dict], list[dict]]
_EMPTY_STACK_TRACE = source_pb2.StackTrace()

# Account id the mocks put in ARNs (the documentation account id AWS uses in examples).
MOCK_ACCOUNT = "123456789012"
MOCK_API_KEY = "mock-vllm-api-key"
SECRET = "[secret]"
ENTRY_POINT = pathlib.Path(__file__).resolve().parents[1] / "infra" / "__main__.py"
UNKNOWN = "[unknown]"
AWS_PROVIDER_TYPES = {"pulumi:providers:aws", "aws:index/provider:Provider"}


@dataclass
class Inventory:
    stack: str
    spec: StackSpec
    resources: list[PlannedResource]
    outputs: dict[str, Any]
    """Stack exports; secret values read "[secret]"."""
    invokes: list[tuple[str, dict]] = field(default_factory=list)
    """(token, args) of every invoke the program made, in order."""
    secret_inputs: dict[str, dict] = field(default_factory=dict)
    """URN -> inputs with their secret values, for the resources that have any (in `resources` they
    read "[secret]"). In memory only, for tests: never printed, never cached."""
    aliases: dict[str, list[str]] = field(default_factory=dict)
    """URN -> the former URNs its `aliases` option names (as the engine resolves them), for the resources
    that have any: a resource that moved keeps its state under them. In memory only, for tests."""
    messages: list[str] = field(default_factory=list)
    """What the program logged (pulumi.log), "<severity>: <text>". Kept here instead of printed: the
    estimate's output stays clean, and today's messages repeat warnings `validate` shows."""

    def of_type(self, type_: str, region: str | None = None) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_ and (region is None or r.region == region)]

    def by_id(self, id_: str) -> PlannedResource:
        for r in self.resources:
            if r.id == id_:
                return r
        raise KeyError(id_)

    def by_urn(self, urn: str) -> PlannedResource:
        for r in self.resources:
            if r.urn == urn:
                return r
        raise KeyError(urn)

    def named(self, name: str) -> PlannedResource:
        found = [r for r in self.resources if r.name == name]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources named {name!r}")
        return found[0]

    def children(self, urn: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.parent == urn]

    def descendants(self, urn: str) -> Iterator[PlannedResource]:
        for child in self.children(urn):
            yield child
            yield from self.descendants(child.urn)

    def custom(self) -> list[PlannedResource]:
        return [r for r in self.resources if r.custom]


# ---------------------------------------------------------------- fake outputs


def _short_hash(*parts: str, n: int = 8) -> str:
    return hashlib.sha1("/".join(parts).encode()).hexdigest()[:n]


def _fake_outputs(type_: str, name: str, inputs: dict, region: str | None) -> dict:
    """Outputs a real create would return that the program reads; inputs echo back as outputs."""
    where = region or "us-east-1"
    h = _short_hash(type_, name)
    service = type_.split(":")[1].split("/")[0] if type_.count(":") >= 2 else "x"
    state: dict[str, Any] = dict(inputs)
    state.setdefault("arn", f"arn:aws:{service}:{where}:{MOCK_ACCOUNT}:{name}-{h}")
    if "name" not in state and not type_.startswith("kubernetes:"):
        state["name"] = f"{name}-{h[:7]}"
    if type_ == "aws:eks/cluster:Cluster":
        issuer = f"https://oidc.eks.{where}.amazonaws.com/id/{_short_hash(name, n=32).upper()}"
        state.update(
            endpoint=f"https://{_short_hash(name, n=32).upper()}.gr7.{where}.eks.amazonaws.com",
            certificateAuthority={"data": "bW9jay1jYQ=="},
            identities=[{"oidcs": [{"issuer": issuer}]}],
            vpcConfig={**inputs.get("vpcConfig", {}), "clusterSecurityGroupId": f"sg-{h}c", "vpcId": f"vpc-{h}"},
            version=inputs.get("version", "1.31"),
            status="ACTIVE",
        )
    elif type_ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
        url = inputs.get("url", "").removeprefix("https://")
        state["arn"] = f"arn:aws:iam::{MOCK_ACCOUNT}:oidc-provider/{url}"
    elif type_ == "aws:iam/role:Role":
        state["arn"] = f"arn:aws:iam::{MOCK_ACCOUNT}:role/{state['name']}"
    elif type_ == "aws:eks/nodeGroup:NodeGroup":
        node_group = inputs.get("nodeGroupName", name)
        state.update(
            nodeGroupName=node_group,
            resources=[{"autoscalingGroups": [{"name": f"eks-{node_group}-{h}"}], "remoteAccessSecurityGroupId": ""}],
            status="ACTIVE",
        )
    elif type_ == "aws:lb/loadBalancer:LoadBalancer":
        lb = state["name"]
        state.update(
            dnsName=f"{lb}-{h}.{where}.elb.amazonaws.com",
            arnSuffix=f"app/{lb}/{h}{h}",
            zoneId="Z35SXDOTRQ7X7K",
        )
        state["arn"] = f"arn:aws:elasticloadbalancing:{where}:{MOCK_ACCOUNT}:loadbalancer/app/{lb}/{h}{h}"
    elif type_ == "aws:lb/targetGroup:TargetGroup":
        state["arnSuffix"] = f"targetgroup/{state['name']}/{h}{h}"
        state["arn"] = f"arn:aws:elasticloadbalancing:{where}:{MOCK_ACCOUNT}:{state['arnSuffix']}"
    elif type_ == "aws:globalaccelerator/accelerator:Accelerator":
        state.update(dnsName=f"a{h}.awsglobalaccelerator.com", hostedZoneId="Z2BJ6XQ5FK7U4H",
                     ipSets=[{"ipAddresses": ["198.51.100.10", "198.51.100.11"], "ipFamily": "IPv4"}])
    elif type_ == "aws:acm/certificate:Certificate":
        domain = inputs.get("domainName", "example.com")
        state["domainValidationOptions"] = [{
            "domainName": domain,
            "resourceRecordName": f"_{h}.{domain}.",
            "resourceRecordType": "CNAME",
            "resourceRecordValue": f"_{h}.acm-validations.aws.",
        }]
    elif type_ == "aws:s3/bucket:Bucket":
        bucket = inputs.get("bucket") or (inputs.get("bucketPrefix", f"{name}-") + (h * 4)[:26])[:63]
        state.update(bucket=bucket, arn=f"arn:aws:s3:::{bucket}")
    elif type_ == "aws:kms/key:Key":
        state["keyId"] = f"{h}-0000-4000-8000-{h}{h[:4]}"
    elif type_ == "aws:ec2/launchTemplate:LaunchTemplate":
        state.update(latestVersion=1, defaultVersion=1)
    elif type_ == "aws:sns/topic:Topic":
        state["arn"] = f"arn:aws:sns:{where}:{MOCK_ACCOUNT}:{state['name']}"
    elif type_ == "aws:ec2/securityGroup:SecurityGroup":
        state.setdefault("ownerId", MOCK_ACCOUNT)
    elif type_ == "kubernetes:helm.sh/v3:Release":
        state["status"] = {"name": inputs.get("name", name), "namespace": inputs.get("namespace", "default"),
                           "status": "deployed", "version": inputs.get("version", "")}
    return state


def _fake_id(type_: str, name: str, provider: str) -> str:
    h = _short_hash(type_, name, provider, n=17)  # the provider tells same-named resources of two regions apart
    prefixes = {
        "aws:ec2/vpc:Vpc": "vpc-", "aws:ec2/subnet:Subnet": "subnet-", "aws:ec2/securityGroup:SecurityGroup": "sg-",
        "aws:ec2/internetGateway:InternetGateway": "igw-", "aws:ec2/natGateway:NatGateway": "nat-",
        "aws:ec2/eip:Eip": "eipalloc-", "aws:ec2/routeTable:RouteTable": "rtb-",
        "aws:ec2/launchTemplate:LaunchTemplate": "lt-", "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
    }
    for token, prefix in prefixes.items():
        if type_ == token:
            return prefix + h
    return f"{name}-{h[:8]}"


def _plain(value: Any, reveal: bool = False, found: list | None = None) -> Any:
    """Wire value -> plain JSON data (resource references as URN strings). A secret value reads
    "[secret]" (and is noted in `found`): the inventory is printed, cached and compared, and a
    secret must reach none of them; `reveal=True` unwraps it, for the in-memory `secret_inputs`."""
    if rpc.is_rpc_secret(value):
        if not reveal:
            if found is not None:
                found.append(True)
            return SECRET
        return _plain(rpc.unwrap_rpc_secret(value), reveal)
    if isinstance(value, dict):
        return {k: _plain(v, reveal, found) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, reveal, found) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, pulumi.Resource):
        return "[resource]"
    return str(value)


# ---------------------------------------------------------------- the recording engine


@dataclass
class _Registration:
    urn: str
    type: str
    name: str
    inputs: dict
    custom: bool
    parent: str | None
    provider: str | None
    id: str | None
    outputs: dict
    dependencies: list[str]


class _RecordingMocks(pulumi_mocks.Mocks):
    def __init__(self, helm_template: HelmTemplate | None):
        self.helm_template = helm_template
        self.provider_regions: dict[str, str] = {}
        self.invokes: list[tuple[str, dict]] = []

    def region_of_provider(self, provider_ref: str | None) -> str | None:
        if not provider_ref:
            return None
        return self.provider_regions.get(provider_ref.rsplit("::", 1)[0])

    def new_resource(self, args: pulumi_mocks.MockResourceArgs):
        id_, state, _ = self.planned(args.typ, args.name, args.provider, _plain(args.inputs))
        return id_, state

    def planned(self, type_: str, name: str, provider: str | None, inputs: dict) -> tuple[str, dict, str | None]:
        """(id, outputs, region) of a resource with these plain inputs."""
        region = inputs.get("region") if type_ in AWS_PROVIDER_TYPES else self.region_of_provider(provider)
        return _fake_id(type_, name, provider or ""), _fake_outputs(type_, name, inputs, region), region

    def call(self, args: pulumi_mocks.MockCallArgs):
        call_args = _plain(args.args, reveal=True)  # answers the program (helm template), never stored
        self.invokes.append((args.token, call_args))
        region = self.region_of_provider(args.provider) or "us-east-1"
        azs = [f"{region}{letter}" for letter in "abc"]
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            return {"id": region, "names": azs, "zoneIds": [f"{region[:3]}{region[-1]}-az{i + 1}" for i in range(3)],
                    "groupNames": [region], "state": call_args.get("state")}
        if args.token == "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings":
            wanted = next((f["values"] for f in call_args.get("filters", []) if f.get("name") == "instance-type"), [])
            pairs = [(az, it) for it in wanted for az in azs]
            return {"id": region, "locations": [p[0] for p in pairs], "instanceTypes": [p[1] for p in pairs],
                    "locationTypes": ["availability-zone"] * len(pairs)}
        if args.token in ("aws:index/getCallerIdentity:getCallerIdentity",):
            return {"accountId": MOCK_ACCOUNT, "arn": f"arn:aws:iam::{MOCK_ACCOUNT}:user/mock", "userId": "MOCK", "id": MOCK_ACCOUNT}
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws", "reverseDnsPrefix": "com.amazonaws"}
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": region, "region": region, "id": region, "endpoint": f"ec2.{region}.amazonaws.com"}
        if args.token == "aws:autoscaling/getAmiIds:getAmiIds":  # DescribeAutoScalingGroups by tag filters
            # No Auto Scaling group exists yet: what a first `pulumi up` sees (a GPU pool starts at initialNodes).
            return {"id": region, "names": [], "arns": [], "filters": call_args.get("filters")}
        if args.token == "aws:autoscaling/getGroup:getGroup":
            name = call_args.get("name", "")
            return {"id": name, "name": name, "arn": f"arn:aws:autoscaling:{region}:{MOCK_ACCOUNT}:autoScalingGroup:{name}",
                    "desiredCapacity": 0, "minSize": 0, "maxSize": 0, "tags": []}
        if args.token == "aws:eks/getAddonVersion:getAddonVersion":
            # A made-up version that names the Kubernetes version, so a version bump shows in the inventory.
            kubernetes = call_args.get("kubernetesVersion", "")
            return {"id": call_args.get("addonName", ""), "addonName": call_args.get("addonName"),
                    "kubernetesVersion": kubernetes, "mostRecent": call_args.get("mostRecent"),
                    "version": f"v0.0.0-mock-k8s{kubernetes}"}
        if args.token == "kubernetes:helm:template":
            opts = call_args.get("jsonOpts")
            opts = json.loads(opts) if isinstance(opts, str) else (opts or {})
            return {"result": self.helm_template(opts) if self.helm_template else []}
        raise NotImplementedError(f"the recording mocks do not answer invoke {args.token}; add it to cli/inventory.py")


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor with a leaner `RegisterResource` that also records parent and provider.

    The SDK's own version deserialises the request, asks the mocks, then serialises the outputs
    back through the SDK's async serialiser on an event loop of the executor thread. Our outputs
    are plain JSON data (`_fake_outputs`), so they go into the response's Struct directly, and the
    request is deserialised once for both the mocks and the record."""

    def __init__(self, mocks: _RecordingMocks):
        super().__init__(mocks)
        self.recorded: list[_Registration] = []
        self.secret_inputs: dict[str, dict] = {}
        self.aliases: dict[str, list[str]] = {}
        self._urns: set[str] = set()
        self._lock = threading.Lock()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # As the engine does: the whole parent type chain, not only the parent's own type.
        if parent:
            type_ = parent.split("::")[2] + "$" + type_
        return "urn:pulumi:" + "::".join([pulumi.get_stack(), pulumi.get_project(), type_, name])

    def alias_urns(self, request) -> list[str]:
        """The URNs a registration's aliases stand for, as the engine resolves an alias spec: the name,
        type and parent it leaves out are the resource's own (a plain URN alias is taken as it is)."""
        urns = []
        for alias in request.aliases:
            if alias.HasField("urn") or not alias.HasField("spec"):
                urns.append(alias.urn)
                continue
            spec = alias.spec
            parent = "" if spec.noParent else (spec.parentUrn or request.parent)
            if spec.stack or spec.project:
                raise NotImplementedError("the recording mocks resolve no alias to another stack or project")
            urns.append(self.make_urn(parent, spec.type or request.type, spec.name or request.name))
        return urns

    def Invoke(self, request):
        if request.tok == "pulumi:pulumi:getResource":
            return super().Invoke(request)
        args = pulumi_mocks.MockCallArgs(token=request.tok, args=rpc.deserialize_properties(request.args),
                                         provider=request.provider)
        return resource_pb2.ResourceInvokeResponse(**{"return": _struct(self.mocks.call(args))})

    def RegisterResource(self, request):
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        wire = rpc.deserialize_properties(request.object)
        secrets: list = []
        inputs = _plain(wire, found=secrets)
        if secrets:
            self.secret_inputs[urn] = _plain(wire, reveal=True)
        if request.aliases:
            self.aliases[urn] = self.alias_urns(request)
        id_, state, region = self.mocks.planned(request.type, request.name, request.provider, inputs)
        registration = _Registration(
            urn=urn, type=request.type, name=request.name, inputs=inputs,
            custom=bool(request.custom), parent=request.parent or None,
            provider=request.provider.rsplit("::", 1)[0] if request.provider else None,
            id=id_ or None, outputs=state, dependencies=sorted(set(request.dependencies)),
        )
        with self._lock:
            if urn in self._urns:
                raise ValueError(f"duplicate resource URN {urn}: the engine would refuse this program")
            self._urns.add(urn)
            self.recorded.append(registration)
            self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, id_, state)
            if request.type in AWS_PROVIDER_TYPES and region:
                self.mocks.provider_regions[urn] = region
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=_struct(state))


def _struct(values: dict) -> struct_pb2.Struct:
    """Plain JSON data -> the wire Struct, as `rpc.serialize_properties` writes it: a top-level key
    whose value is None is left out (a missing output reads as unknown during a preview)."""
    struct = struct_pb2.Struct()
    struct.update({k: v for k, v in values.items() if v is not None})
    return struct


def _regions(recorded: list[_Registration], provider_regions: dict[str, str]) -> dict[str, str | None]:
    """Region per URN: the explicit AWS provider's; else a non-AWS provider's (e.g. a region's
    Kubernetes provider); else, for a component, the one region all its AWS descendants share;
    else the parent chain's."""
    by_urn = {r.urn: r for r in recorded}
    children: dict[str, list[str]] = {}
    for r in recorded:
        if r.parent:
            children.setdefault(r.parent, []).append(r.urn)
    direct = {r.urn: provider_regions.get(r.urn) or provider_regions.get(r.provider or "") for r in recorded}

    below: dict[str, set[str]] = {}

    def descendant_regions(urn: str) -> set[str]:
        if urn not in below:
            found = {direct[urn]} if direct.get(urn) else set()
            for child in children.get(urn, []):
                found |= descendant_regions(child)
            below[urn] = found
        return below[urn]

    memo: dict[str, str | None] = {}

    def region(urn: str | None) -> str | None:
        if urn is None or urn not in by_urn:
            return None
        if urn not in memo:
            memo[urn] = None  # guards against cycles
            r = by_urn[urn]
            if direct[urn]:
                memo[urn] = direct[urn]
            elif r.provider and r.provider in by_urn:
                memo[urn] = region(r.provider)
            elif not r.custom and len(descendant_regions(urn)) == 1:
                memo[urn] = next(iter(descendant_regions(urn)))
            else:
                memo[urn] = region(r.parent)
        return memo[urn]

    return {r.urn: region(r.urn) for r in recorded}


async def _resolve_exports(outputs: dict[str, Any]) -> dict[str, Any]:
    resolved = {}
    for key, value in outputs.items():
        out = pulumi.Output.from_input(value)
        if await out.is_secret():
            resolved[key] = SECRET
            continue
        known = await out.is_known()
        resolved[key] = _plain(await out.future()) if known else UNKNOWN
    return resolved


def _cancel_leftover_tasks() -> None:
    loop = asyncio.get_event_loop()
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


def _config_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class _CollectingLog(logging.Handler):
    """A logger for the mock engine that keeps what the program logs instead of printing it."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []
        self.logger = logging.Logger("tradeoff-infra.program", logging.INFO)  # not in the global tree
        self.logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.levelname.lower()}: {record.getMessage()}")


class _InlineExecutor(concurrent.futures.ThreadPoolExecutor):
    """The event loop's default executor during a run: the SDK hands every monitor call to a worker
    thread (for a real engine they are blocking gRPC calls); our monitor answers in microseconds, and
    the hand-off between threads and event loops cost more than the answers."""

    def submit(self, fn, /, *args, **kwargs):
        future: concurrent.futures.Future = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as err:  # noqa: BLE001  (handed to the awaiting SDK code, as a thread would)
            err._from_mock_monitor = True  # type: ignore[attr-defined]
            future.set_exception(err)
        return future


def _quiet_about_monitor_errors(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    """The loop's exception handler during runs. A monitor error fails the run and reaches the
    caller; answered at once, it also sits in futures whose awaiting tasks the failed run cancels,
    and asyncio would print each again as "exception was never retrieved". Those copies are dropped."""
    if getattr(context.get("exception"), "_from_mock_monitor", False) and "never retrieved" in context.get("message", ""):
        return
    loop.default_exception_handler(context)


def _no_debug_log(*_args, **_kwargs) -> None:
    """Stand-in for `pulumi.log.debug` during a run: the engine shows the SDK's debug channel only
    with `-v`, the inventory keeps info and above, and each debug line about a resource costs the
    SDK a task to resolve its URN first (~5 % of a run)."""


def _no_stack_trace():
    """Stand-in for the SDK's per-resource `traceback.extract_stack()`: the engine shows it as the
    resource's source position; nothing reads it under mocks, and it is ~10 % of a run."""
    return _EMPTY_STACK_TRACE


def _run(config: dict[str, Any], stack: str, helm_template: HelmTemplate | None) -> Inventory:
    if hasattr(pulumi_resource_runtime, "_get_stack_trace"):
        pulumi_resource_runtime._get_stack_trace = _no_stack_trace
    pulumi.log.debug = _no_debug_log
    spec = parse_stack_config(config, f"stack {stack}", deploy=False)  # a preview under mocks, never `pulumi up`
    set_root_resource(None)  # a fresh root Stack for this run, in this copied context
    SETTINGS.outputs = set()  # the mock settings leave this shared with earlier runs otherwise
    secrets = {"vllmApiKey": MOCK_API_KEY, **{k: v for k, v in config.items() if k in SECRET_KEYS and isinstance(v, str)}}
    pulumi.runtime.set_all_config(  # our keys in the project's namespace; `aws:profile` as it is
        {(k if ":" in k else f"{NAMESPACE}{k}"): _config_value(v) for k, v in {**config, **secrets}.items() if v is not None},
        [f"{NAMESPACE}{k}" for k in SECRET_KEYS],
    )
    mocks = _RecordingMocks(helm_template)
    monitor = _RecordingMonitor(mocks)
    program_log = _CollectingLog()
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=True, monitor=monitor,
                             logger=program_log.logger)
    loop = asyncio.get_event_loop()
    if not isinstance(getattr(loop, "_default_executor", None), _InlineExecutor):
        loop.set_default_executor(_InlineExecutor())
        loop.set_exception_handler(_quiet_about_monitor_errors)

    try:
        # The real entry point, as `pulumi up` runs it: config -> spec -> program.build.
        _sync_await(run_pulumi_func(lambda: runpy.run_path(str(ENTRY_POINT), run_name="__main__")))
    except BaseException:
        _cancel_leftover_tasks()  # or they would run (and fail) inside the next run's event loop
        raise
    root = pulumi.runtime.get_root_resource()
    outputs = _sync_await(_resolve_exports(dict(getattr(root, "outputs", {}) or {})))

    regions = _regions(monitor.recorded, mocks.provider_regions)
    resources = [
        PlannedResource(urn=r.urn, type=r.type, name=r.name, inputs=r.inputs, custom=r.custom,
                        region=regions[r.urn], parent=r.parent, provider=r.provider, id=r.id,
                        outputs=r.outputs, dependencies=r.dependencies)
        for r in sorted(monitor.recorded, key=lambda r: r.urn)  # registration order varies between runs
    ]
    return Inventory(stack=stack, spec=spec, resources=resources, outputs=outputs, invokes=list(mocks.invokes),
                     secret_inputs=dict(monitor.secret_inputs), aliases=dict(monitor.aliases),
                     messages=program_log.messages)


def run_program(config: dict[str, Any], stack: str = "test", *, helm_template: HelmTemplate | None = None) -> Inventory:
    """Run `infra.program.build` for one stack's config under recording mocks and return what it creates.

    `config` holds the stack's `tradeoff-infra:` keys without the namespace. Raises `SpecError`
    (naming the key) when the config is not a valid stack.
    """
    with fewer_collections():
        return contextvars.copy_context().run(_run, config, stack, helm_template)
