"""The `gateway` block of the stack spec: routes, data classes, offers, budget and provider keys (issue 14)."""

from __future__ import annotations

import copy

import pytest

from infra.spec import (
    PROVIDER_API_KEYS,
    SpecError,
    gateway_providers,
    missing_provider_keys,
    parse_stack_config,
    project_config,
)


@pytest.fixture
def hybrid(stack_configs) -> dict:
    return copy.deepcopy(stack_configs["hybrid"])


def problems(config) -> dict[str, str]:
    with pytest.raises(SpecError) as info:
        parse_stack_config(config)
    return {p.path: p.message for p in info.value.problems}


def test_the_shipped_hybrid_stack_parses_with_its_routes(hybrid):
    spec = parse_stack_config(hybrid)
    assert [r.name for r in spec.gateway.routes] == ["chat", "support", "premium"]
    assert spec.gateway.expected_unavailability == 0.005  # the documented default
    support = spec.gateway.routes[1]
    assert support.data_class == "restricted" and not support.reaches_api and support.api_offers() == []
    assert gateway_providers(spec) == ["together", "openai"]


def test_a_stack_without_gateway_has_none(stack_configs):
    assert parse_stack_config(copy.deepcopy(stack_configs["prod-us"])).gateway is None


@pytest.mark.parametrize("leak", [{"overflowTo": "openai:gpt-4o-mini"}, {"fallbackTo": ["openai:gpt-4o-mini"]},
                                  {"servedBy": "openai:gpt-4o-mini"}])
def test_a_restricted_route_that_could_leave_the_fleet_is_refused(hybrid, leak):
    hybrid["gateway"]["routes"][1].update(leak)
    found = problems(hybrid)
    assert "never leaves the self-hosted fleet" in found["gateway.routes[1]"]
    assert next(iter(leak)) in found["gateway.routes[1]"]


def test_route_shares_must_add_up_to_one(hybrid):
    hybrid["gateway"]["routes"][0]["share"] = 0.5
    assert "add up to 0.710, not 1" in problems(hybrid)["gateway.routes"]  # 0.5 + support 0.2 + premium 0.01


def test_route_names_are_distinct(hybrid):
    hybrid["gateway"]["routes"][2]["name"] = "chat"
    assert "'chat' appears twice" in problems(hybrid)["gateway.routes"]


def test_an_offer_not_in_apicomparison_is_named_with_the_near_one(hybrid):
    hybrid["gateway"]["routes"][0]["fallbackTo"] = ["openai:gpt-4o-mni"]
    hybrid["gateway"]["routes"][2]["servedBy"] = "self-hostd"
    found = problems(hybrid)
    assert "did you mean openai:gpt-4o-mini?" in found["gateway.routes[0].fallbackTo[0]"]
    assert "did you mean self-hosted?" in found["gateway.routes[2].servedBy"]


def test_a_custom_offer_has_no_endpoint_to_route_to(hybrid):
    hybrid["apiComparison"].append({"name": "inhouse", "inputPerMTokUsd": 0.1, "outputPerMTokUsd": 0.2})
    hybrid["gateway"]["routes"][2]["servedBy"] = "inhouse"
    assert "custom offer" in problems(hybrid)["gateway.routes[2].servedBy"]


def test_data_that_may_not_leave_refuses_every_route_that_reaches_an_api(hybrid):
    hybrid["constraints"]["dataMayLeaveNetwork"] = False
    found = problems(hybrid)
    assert set(found) == {"gateway.routes[0]", "gateway.routes[2]"}
    assert "dataMayLeaveNetwork is false" in found["gateway.routes[0]"]


def test_an_api_budget_is_required_when_a_route_reaches_an_api(hybrid):
    del hybrid["gateway"]["apiBudgetMonthlyUsd"]
    assert "gateway.apiBudgetMonthlyUsd" in problems(hybrid)


def test_an_api_route_takes_no_overflow(hybrid):
    hybrid["gateway"]["routes"][2]["overflowTo"] = "openai:gpt-4o-mini"
    assert "takes neither" in problems(hybrid)["gateway.routes[2]"]


def test_provider_keys_must_be_secrets_and_are_named_when_missing(hybrid):
    with pytest.raises(SpecError) as info:
        project_config({"config": {f"tradeoff-infra:{PROVIDER_API_KEYS}": {"openai": "sk-plain"}}})
    (problem,) = info.value.problems
    assert problem.path == f"tradeoff-infra:{PROVIDER_API_KEYS}.openai" and "clear text" in problem.message
    assert "sk-plain" not in problem.message
    spec = parse_stack_config(hybrid)
    missing = missing_provider_keys(spec, {"openai": {"secure": "v1:abc"}})
    assert [p.path for p in missing] == [f"{PROVIDER_API_KEYS}.together"]
    config = project_config({"config": {f"tradeoff-infra:{PROVIDER_API_KEYS}": {"openai": {"secure": "v1:x"}}}})
    assert config[PROVIDER_API_KEYS] == {"openai": {"secure": "v1:x"}}


def test_a_provider_litellm_cannot_call_is_refused_naming_the_route_key(hybrid):
    """`azure` is a genai-prices provider the gateway has no LiteLLM mapping for (it needs a deployment, not a key):
    the program could not render its deployment, so the stack file is refused before any `pulumi up`."""
    hybrid["apiComparison"].append("azure:gpt-4o-mini")
    hybrid["gateway"]["routes"][0]["fallbackTo"] = ["azure:gpt-4o-mini"]
    hybrid["gateway"]["routes"][2]["servedBy"] = "azure:gpt-4o-mini"
    found = problems(hybrid)
    assert {"gateway.routes[0].fallbackTo[0]", "gateway.routes[2].servedBy"} <= set(found)
    message = found["gateway.routes[0].fallbackTo[0]"]
    assert "cannot call provider 'azure'" in message and "openai" in message
    assert not [path for path in found if path.startswith("gateway.routes[1]")]


def test_a_near_miss_provider_is_named_with_the_supported_one(hybrid):
    hybrid["apiComparison"].append("openaii:gpt-4o-mini")
    hybrid["gateway"]["routes"][0]["overflowTo"] = "openaii:gpt-4o-mini"
    assert "did you mean openai?" in problems(hybrid)["gateway.routes[0].overflowTo"]


def test_provider_budgets_name_every_called_provider_and_fit_the_budget(hybrid):
    hybrid["gateway"]["providerBudgetsMonthlyUsd"] = {"togther": 20000, "openai": 3000}
    found = problems(hybrid)
    assert "did you mean together?" in found["gateway.providerBudgetsMonthlyUsd.togther"]
    assert "gives no budget for together" in found["gateway.providerBudgetsMonthlyUsd"]
    hybrid["gateway"]["providerBudgetsMonthlyUsd"] = {"together": 20000, "openai": 9000}
    assert "above gateway.apiBudgetMonthlyUsd" in problems(hybrid)["gateway.providerBudgetsMonthlyUsd"]


def test_one_gateway_pod_is_refused_because_the_disruption_budget_would_evict_it(hybrid):
    """The gateway's PodDisruptionBudget allows one pod unavailable; with `minReplicas: 1` (accepted before) a node
    drain evicted the only pod and every route went down (rev14's finding)."""
    hybrid["gateway"]["minReplicas"] = 1
    hybrid["gateway"]["maxReplicas"] = 1
    assert "gateway.minReplicas" in problems(hybrid)
