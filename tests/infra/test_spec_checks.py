"""`infra.spec.checks`: the cross-field checks are small functions run in a fixed order by one `check()`."""

from __future__ import annotations

import copy
import inspect

import pytest

from infra.spec import CHECKS, REGION_CHECKS, Problem, SpecError, check, parse_stack_config
from infra.spec import checks as checks_module


def broken_prod_global(stack_configs) -> dict:
    """prod-global with problems for many checks, in several regions at once."""
    config = copy.deepcopy(stack_configs["prod-global"])
    first, second, third = config["regions"]
    first["gpuPools"][0]["instanceType"] = "m6i.large"                          # not a GPU type
    first["gpuPools"].append({"name": "l40s-x4", "instanceType": "g6e.12xlarge", "minNodes": 5, "maxNodes": 2})
    first["autoscaling"] = {"minReplicas": 9, "maxReplicas": 4}
    second["region"] = "eu-central-9"                                            # no such region
    third.update(vpcCidr=first["vpcCidr"], trafficShare=0.5, autoscaling={"minReplicas": 1, "maxReplicas": 100})
    config["autoscaling"]["fallbackReplicas"] = 9
    config["cluster"]["adminPrincipalArns"] = []
    del config["endpoint"]["hostedZoneId"]
    return config


def test_every_problem_is_reported_in_the_order_validate_prints_them(stack_configs):
    """The order the single check() had before it was split into functions: regions one after the other
    (each region's pools, canary, replicas), then networks, the cluster, the endpoint and the traffic."""
    with pytest.raises(SpecError) as info:
        parse_stack_config(broken_prod_global(stack_configs))
    assert [p.path for p in info.value.problems] == [
        "regions[0].gpuPools[0].instanceType",
        "regions[0].gpuPools[1].name",
        "regions[0].gpuPools[1].minNodes",
        "regions[0].autoscaling.minReplicas",
        "regions[1].region",
        "regions[2].autoscaling.maxReplicas",
        "regions[2].vpcCidr",
        "cluster.adminPrincipalArns",
        "autoscaling.fallbackReplicas",
        "endpoint.hostedZoneId",
        "regions",
    ]


def test_checks_are_small_generator_functions():
    for one in (*CHECKS, *REGION_CHECKS):
        assert inspect.isgeneratorfunction(one), one.__name__
        assert len(inspect.getsource(one).splitlines()) <= 60, f"{one.__name__} is no longer small"


def test_a_new_check_is_one_function_in_the_tuple(monkeypatch, stack_configs):
    def llama_names_refused(spec):
        if spec.model.name.startswith("llama"):
            yield Problem("model.name", "a new check's problem")

    monkeypatch.setattr(checks_module, "CHECKS", (*CHECKS, llama_names_refused))
    with pytest.raises(SpecError) as info:
        parse_stack_config(stack_configs["prod-global"])
    assert [str(p) for p in info.value.problems] == ["model.name: a new check's problem"]


def test_a_valid_stack_has_no_problems(stack_configs):
    for name, config in stack_configs.items():
        assert check(parse_stack_config(config)) == [], name
