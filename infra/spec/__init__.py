"""The typed stack spec: every key under `tradeoff-infra:` in `stacks/Pulumi.<stack>.yaml`.

Parsing is pydantic; cross-field checks (model fits the GPU, replicas fit the pools, regions are
real) run after parsing and report every problem with its key path, e.g.
`regions[1].gpuPools[0].instanceType`. Nothing here imports Pulumi: the CLI, the program and the
tests all call `parse_stack_config` / `load_stack_file`.

    models.py   the pydantic models (StackSpec and its parts) and their derived views
    errors.py   Problem, SpecError, pydantic's errors as Problems
    checks.py   check(): the cross-field checks, one small function each
    advice.py   warnings(), price_warnings(): allowed, but a reviewer should see it; price_problems(): what estimate cannot price
    loading.py  reading a stack file: text -> YAML -> config keys -> StackSpec

Every public name of these modules is importable from `infra.spec` itself, loaded on first use (PEP 562): importing
the package, or a light name such as `SpecError`, does not build the pydantic models (a warm `estimate` reads
no spec), the first model name does. The pin rules live in `infra/pins.py`, the sizing facts in
`infra/sizing.py`: import them from there.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_HOMES: dict[str, tuple[str, ...]] = {
    "advice": (
        "PUBLIC_ADDRESSES_WARNING", "PUBLIC_IPV4_ADDRESSES", "price_problems", "price_warnings",
        "public_ipv4_addresses", "warnings",
    ),
    "checks": (
        "CHECKS", "REGION_CHECKS", "check", "fit_report", "offer_name", "unknown_region_message",
    ),
    "errors": (
        "Problem", "SpecError",
    ),
    "loading": (
        "AWS_PROFILE_KEY", "AWS_ROLE_KEYS", "AWS_ROLE_MESSAGE", "MAX_STACK_FILE_BYTES", "NAMESPACE", "PROJECT",
        "PROVIDER_API_KEYS", "SECRET_IN_CLEAR_MESSAGE", "SECRET_KEYS", "gateway_providers", "load_stack_file",
        "missing_provider_keys", "parse_stack_config", "parse_stack_text", "project_config", "read_stack_config",
        "read_stack_text",
    ),
    "paths": (
        "stack_name_from_path",
    ),
    "models": (
        "DATA_CLASSES", "DEFAULT_EXPECTED_UNAVAILABILITY", "SELF_HOSTED", "CLUSTER_ADMIN_POLICY", "DNS_NAME_RE",
        "EMAIL_RE", "GATED_SOURCE_PREFIXES", "IAM_PRINCIPAL_RE", "KUBERNETES_VERSIONS", "NAME_RE",
        "NON_INTERNET_RANGES", "TRANSIT_GATEWAY_RE", "AlertThresholds", "ApiOfferSpec", "ArchitectureSpec",
        "AutoscalingSpec", "BudgetSpec", "ClusterSpec", "ConstraintsSpec", "CustomApiOffer", "EndpointSpec",
        "GatewayRoute", "GatewaySpec", "GpuPoolSpec", "KvCacheMetric", "ModelOverride", "ModelSpec",
        "MonitoringSpec", "NetworkSpec", "OperationsSpec", "PinRecord", "RegionScaling", "RegionSpec", "SpecModel",
        "StackSpec", "SystemNodes", "TrafficSpec", "default_vpc_cidr", "reaches_internet_clients", "transit_routes",
    ),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

if TYPE_CHECKING:  # the names as a type checker (and a reader) sees them; at run time __getattr__ loads them
    from infra.spec.advice import (
        PUBLIC_ADDRESSES_WARNING,
        PUBLIC_IPV4_ADDRESSES,
        price_problems,
        price_warnings,
        public_ipv4_addresses,
        warnings,
    )
    from infra.spec.checks import CHECKS, REGION_CHECKS, check, fit_report, offer_name, unknown_region_message
    from infra.spec.errors import Problem, SpecError
    from infra.spec.loading import (
        AWS_PROFILE_KEY,
        AWS_ROLE_KEYS,
        AWS_ROLE_MESSAGE,
        MAX_STACK_FILE_BYTES,
        NAMESPACE,
        PROJECT,
        PROVIDER_API_KEYS,
        SECRET_IN_CLEAR_MESSAGE,
        SECRET_KEYS,
        gateway_providers,
        load_stack_file,
        missing_provider_keys,
        parse_stack_config,
        parse_stack_text,
        project_config,
        read_stack_config,
        read_stack_text,
    )
    from infra.spec.paths import stack_name_from_path
    from infra.spec.models import (
        DATA_CLASSES,
        DEFAULT_EXPECTED_UNAVAILABILITY,
        SELF_HOSTED,
        CLUSTER_ADMIN_POLICY,
        DNS_NAME_RE,
        EMAIL_RE,
        GATED_SOURCE_PREFIXES,
        IAM_PRINCIPAL_RE,
        KUBERNETES_VERSIONS,
        NAME_RE,
        NON_INTERNET_RANGES,
        TRANSIT_GATEWAY_RE,
        AlertThresholds,
        ApiOfferSpec,
        ArchitectureSpec,
        AutoscalingSpec,
        BudgetSpec,
        ClusterSpec,
        ConstraintsSpec,
        CustomApiOffer,
        EndpointSpec,
        GatewayRoute,
        GatewaySpec,
        GpuPoolSpec,
        KvCacheMetric,
        ModelOverride,
        ModelSpec,
        MonitoringSpec,
        NetworkSpec,
        OperationsSpec,
        PinRecord,
        RegionScaling,
        RegionSpec,
        SpecModel,
        StackSpec,
        SystemNodes,
        TrafficSpec,
        default_vpc_cidr,
        reaches_internet_clients,
        transit_routes,
    )


def __getattr__(name: str) -> Any:
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'infra.spec' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"infra.spec.{module}"), name)
    globals()[name] = value  # once: later reads do not come here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME_OF})


__all__ = [
    "AWS_PROFILE_KEY", "DATA_CLASSES", "DEFAULT_EXPECTED_UNAVAILABILITY", "SELF_HOSTED", "PROVIDER_API_KEYS", "AWS_ROLE_KEYS", "AWS_ROLE_MESSAGE", "CHECKS", "CLUSTER_ADMIN_POLICY", "DNS_NAME_RE",
    "EMAIL_RE", "GATED_SOURCE_PREFIXES", "IAM_PRINCIPAL_RE", "KUBERNETES_VERSIONS", "MAX_STACK_FILE_BYTES",
    "NAMESPACE", "NAME_RE", "NON_INTERNET_RANGES", "PROJECT", "PUBLIC_ADDRESSES_WARNING", "PUBLIC_IPV4_ADDRESSES",
    "REGION_CHECKS", "SECRET_IN_CLEAR_MESSAGE", "SECRET_KEYS", "TRANSIT_GATEWAY_RE", "AlertThresholds", "ApiOfferSpec",
    "ArchitectureSpec", "AutoscalingSpec", "BudgetSpec", "ClusterSpec", "ConstraintsSpec", "CustomApiOffer",
    "EndpointSpec", "GatewayRoute", "GatewaySpec", "GpuPoolSpec", "KvCacheMetric", "ModelOverride", "ModelSpec", "MonitoringSpec", "NetworkSpec",
    "OperationsSpec", "PinRecord", "Problem", "RegionScaling", "RegionSpec", "SpecError", "SpecModel", "StackSpec",
    "SystemNodes", "TrafficSpec", "check", "default_vpc_cidr", "offer_name", "fit_report", "gateway_providers", "load_stack_file", "missing_provider_keys", "parse_stack_config",
    "parse_stack_text", "price_problems", "price_warnings", "project_config", "public_ipv4_addresses", "reaches_internet_clients",
    "read_stack_config", "read_stack_text", "transit_routes", "unknown_region_message",
    "warnings",
]
