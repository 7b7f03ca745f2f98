"""An option applied to a stack file's round-trip document (`--write`, and the winner's program run).

The keys an option sets: `model.tensorParallel`, the precision (`model.quantization`, and `model.dtype` for BF16),
per region the first GPU pool's `instanceType`, `capacityType`, `minNodes`, `maxNodes` (`desiredNodes` kept within
them; a load test of another instance type dropped), and for a mixed region (a floor pool and a spot burst pool)
a second pool of the same instance type, `capacityType: spot`, `minNodes: 0` (the stack's own second pool when it
has one, with its comments; else a new one named after the first, `<name>-spot`); pools beyond the option's are
removed, each named in what `apply` says it changed; and the region's `autoscaling.maxReplicas` when the fleet
needs another than the stack gives it. Everything else, the comments included, stays; an end-of-line comment on a
changed key keeps its text after "was <old value>", since it described the old value (on `capacityType:`, one that
names another capacity type is dropped for "was <old value>" alone). A reused second pool keeps its name (a renamed
pool is a replaced EKS node group): what `apply` says it changed has a note naming it. Edits go through
`cli/pins/stackfile.py`, the writer `model pin` uses.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap

from cli.pins import stackfile
from cli.recommend.search import PRECISIONS, Option, precision_of
from infra import hardware
from infra.spec import NAME_RE, NAMESPACE, GpuPoolSpec, StackSpec

MODEL_KEY = f"{NAMESPACE}model"
REGIONS_KEY = f"{NAMESPACE}regions"
MEASURED_KEYS = ("measuredOutputTokensPerSecond", "measuredSource")
def pool_name(instance_type: str) -> str:
    """A pool name for an instance type: its GPU, and the GPU count when more than one (`l40s-x4`)."""
    it = hardware.instance_type(instance_type)
    base = "".join(ch if ch.isalnum() else "-" for ch in (it.gpu_name or it.family).lower()).strip("-")
    name = f"{base}-x{it.gpus}" if it.gpus > 1 else base
    return name[:32].strip("-") if NAME_RE.match(name[:32].strip("-")) else it.family


def pool_names(region, choice) -> list[str]:
    """The names of a region's pools after `choice`: a pool keeps its name while its instance type stays; a first
    pool of another type is named after its GPU (`pool_name`), a spot burst pool after the first (`<name>-spot`)."""
    own = region.gpu_pools
    first = own[0].name if own[0].instance_type == choice.instance_type else pool_name(choice.instance_type)
    names = [first]
    if choice.mixed:
        keep = len(own) > 1 and own[1].instance_type == choice.instance_type and own[1].name != first
        names.append(own[1].name if keep else f"{first[:27].strip('-')}-spot")
    return names


def _set(mapping: CommentedMap, key: str, value: Any, before: str | None = None) -> bool:
    """Set a key; a changed value's end-of-line comment says what it was. Returns whether it changed."""
    old = mapping.get(key)
    if key in mapping and old == value and isinstance(old, bool) == isinstance(value, bool):
        return False
    stackfile.set_key(mapping, key, value, before=before)
    entry = mapping.ca.items.get(key)
    if old is not None and entry and len(entry) > 2 and entry[2] is not None:
        text = entry[2].value
        at, eol = text.find("#"), text.find("\n")
        if at >= 0 and (eol < 0 or at < eol):  # the key's own comment, not a full-line one below it
            entry[2].value = f"{text[:at]}# was {old}; {text[at + 1:].lstrip()}"
    return True


def apply(document: Any, spec: StackSpec, option: Option) -> list[str]:
    """Write `option` into the round-trip `document` of `spec`'s file; returns what changed, one line each."""
    config = document["config"]
    model = config[MODEL_KEY]
    changes: list[str] = []
    if _set(model, "tensorParallel", option.tensor_parallel, before="maxModelLen"):
        changes.append(f"model.tensorParallel {spec.model.tensor_parallel} -> {option.tensor_parallel}")
    if option.precision != precision_of(spec):
        for key, value in PRECISIONS[option.precision].items():
            camel = {"dtype": "dtype", "quantization": "quantization"}[key]
            if value is None:
                if camel in model:
                    stackfile.delete_key(model, camel)
            else:
                _set(model, camel, value, before="history" if "history" in model else None)
        changes.append(f"model precision {precision_of(spec)} -> {option.precision}")
    for index, (region, choice) in enumerate(zip(spec.regions, option.regions)):
        where = config[REGIONS_KEY][index]
        pools = where["gpuPools"]
        label = f"regions[{index}] {region.region}"
        wanted = choice.pools
        while len(pools) > len(wanted):
            gone = pools[len(pools) - 1].get("name")
            stackfile.delete_item(pools, len(pools) - 1)
            why = "the fleet is one pool per region" if len(wanted) == 1 else "the fleet is a floor pool and a spot pool"
            changes.append(f"{label}: gpuPools[{len(pools)}] {gone} removed ({why})")
        names = pool_names(region, choice)
        for i, want in enumerate(wanted):
            if i == len(pools):
                new = CommentedMap()
                new["name"] = names[i]
                stackfile.append_item(pools, new)
                changes.append(f"{label}: gpuPools[{i}] {names[i]} added: {choice.instance_type} {want.capacity_type}, "
                               f"minNodes {want.min_nodes}, maxNodes {want.max_nodes} (the burst above the floor pool)")
            pool = pools[i]
            own = region.gpu_pools[i] if i < len(region.gpu_pools) else None
            if own is not None and own.name != names[i]:
                _set(pool, "name", names[i])
            for key, value in (("instanceType", choice.instance_type), ("minNodes", want.min_nodes),
                               ("maxNodes", want.max_nodes), ("capacityType", want.capacity_type)):
                old = pool.get(key)
                written = _set(pool, key, value)
                if written and own is not None:
                    changes.append(f"{label}: gpuPools[{i}].{key} {old if old is not None else '(unset)'} -> {value}")
            if i > 0 and own is not None and own.name == names[i] and own.capacity_type != want.capacity_type:
                changes.append(f"{label}: note: gpuPools[{i}] keeps its name {own.name} though it now holds "
                               f"{want.capacity_type} capacity (it was {own.capacity_type}): renaming a pool replaces "
                               "its EKS node group on `pulumi up`; rename it yourself if the name says otherwise")
            if "desiredNodes" in pool:
                desired = min(max(int(pool["desiredNodes"]), want.min_nodes), want.max_nodes)
                _set(pool, "desiredNodes", desired)
            if choice.measured and i > 0:  # the burst pool runs what the floor runs: the same load test holds
                for key in MEASURED_KEYS:
                    _set(pool, key, pools[0][key])
            elif not choice.measured:
                for key in MEASURED_KEYS:
                    if key in pool:
                        stackfile.delete_key(pool, key)
                        changes.append(f"{label}: gpuPools[{i}].{key} removed (it measured another pool)")
        low, high = spec.replicas_for(region)
        if choice.max_replicas != high:
            scaling = where.get("autoscaling")
            if scaling is None:
                scaling = CommentedMap()
                scaling.fa.set_flow_style()
                scaling["maxReplicas"] = choice.max_replicas
                stackfile.set_key(where, "autoscaling", scaling)
            else:
                _set(scaling, "maxReplicas", choice.max_replicas)
            changes.append(f"{label}: autoscaling.maxReplicas {high} -> {choice.max_replicas}")
    return changes


def applied_text(text: str, spec: StackSpec, option: Option) -> str:
    """The stack file's text with `option` applied (what `--write` would write)."""
    crlf = "\r\n" in text
    document = stackfile.load(text.replace("\r\n", "\n") if crlf else text)
    apply(document, spec, option)
    out = stackfile.dump(document)
    return out.replace("\n", "\r\n") if crlf else out


def applied_spec(spec: StackSpec, option: Option) -> StackSpec:
    """`spec` with `option` applied, as `apply` writes it (without a YAML round trip: to price an option)."""
    from infra.spec import RegionScaling

    from cli.recommend.search import with_model

    sized = with_model(spec, option.precision, option.tensor_parallel)
    regions = []
    for region, choice in zip(sized.regions, option.regions):
        names = pool_names(region, choice)
        measured = region.gpu_pools[0]
        pools = []
        for i, want in enumerate(choice.pools):
            own = region.gpu_pools[i] if i < len(region.gpu_pools) else None
            update = {"name": names[i], "instance_type": choice.instance_type, "capacity_type": want.capacity_type,
                      "min_nodes": want.min_nodes, "max_nodes": want.max_nodes}
            if own is None:
                pools.append(GpuPoolSpec.model_validate({"name": names[i], "instanceType": choice.instance_type,
                                                         "minNodes": want.min_nodes, "maxNodes": want.max_nodes,
                                                         "capacityType": want.capacity_type}))
                own = pools[-1]
            if own.desired_nodes is not None:
                update["desired_nodes"] = min(max(own.desired_nodes, want.min_nodes), want.max_nodes)
            if choice.measured and i > 0:
                update.update(measured_output_tokens_per_second=measured.measured_output_tokens_per_second,
                              measured_source=measured.measured_source)
            elif not choice.measured:
                update.update(measured_output_tokens_per_second=None, measured_source=None)
            if pools and pools[-1] is own:
                pools[-1] = own.model_copy(update=update)
            else:
                pools.append(own.model_copy(update=update))
        changed: dict = {"gpu_pools": pools}
        low, high = spec.replicas_for(region)
        if choice.max_replicas != high:
            scaling = region.autoscaling or RegionScaling()
            changed["autoscaling"] = scaling.model_copy(update={"max_replicas": choice.max_replicas})
        regions.append(region.model_copy(update=changed))
    return sized.model_copy(update={"regions": regions})
