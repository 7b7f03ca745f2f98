"""infra/gateway_config.py without the proxy: the rules of the rendered LiteLLM config (tests/gateway runs it)."""

from __future__ import annotations

import copy
import re

import pytest
import yaml

from infra import gateway_config as gc
from infra.gateway_overflow import overflow_plan
from infra.spec import parse_stack_config

VLLM = "http://vllm.tradeoff-infra.svc:8000/v1"


@pytest.fixture
def hybrid(stack_configs) -> dict:
    return copy.deepcopy(stack_configs["hybrid"])


@pytest.fixture
def spec(hybrid):
    return parse_stack_config(hybrid)


def deployments(config: dict, route: str) -> list[dict]:
    return [d for d in config["model_list"] if d["model_name"] == route]


def chain(config: dict, route: str) -> list[str]:
    [targets] = [entry[route] for entry in config["router_settings"]["fallbacks"] if route in entry]
    return targets


def test_restricted_routes_have_one_self_hosted_deployment_and_an_empty_chain(spec):
    config = gc.render_config(spec, vllm_base_url=VLLM)
    [only] = deployments(config, "support")
    assert only["litellm_params"]["model"] == f"hosted_vllm/{spec.model.name}"
    assert only["litellm_params"]["api_base"] == VLLM
    assert "order" not in only["litellm_params"] and "max_parallel_requests" not in only["litellm_params"]
    assert chain(config, "support") == []  # explicit: it shadows any generic "*" chain
    # nothing else LiteLLM could fall back through
    settings = config["router_settings"]
    assert settings["context_window_fallbacks"] == [] and settings["content_policy_fallbacks"] == []
    assert "default_fallbacks" not in settings
    assert not any("*" in d["model_name"] or "*" in d["litellm_params"]["model"] for d in config["model_list"])
    assert all(list(entry) != ["*"] for entry in settings["fallbacks"])


def test_self_hosted_calls_time_out_after_a_long_request(spec):
    config = gc.render_config(spec, vllm_base_url=VLLM)
    # 1.5 s to the first token + 4 x 300 output tokens x 30 ms = 37.5 s, at least 60 (chart_values.long_request_seconds),
    # not 6000 s
    assert {d["litellm_params"].get("timeout") for d in config["model_list"]
            if d["litellm_params"]["model"].startswith("hosted_vllm/")} == {60}


def test_overflow_route_orders_fleet_then_offer_with_a_limit_from_the_spec(spec):
    config = gc.render_config(spec, vllm_base_url=VLLM, region="us-west-2")
    home, overflow = deployments(config, "chat")
    assert home["litellm_params"]["order"] == 1 and overflow["litellm_params"]["order"] == 2
    assert overflow["litellm_params"]["model"] == "together_ai/meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo"
    assert overflow["litellm_params"]["api_key"] == f"os.environ/{gc.provider_key_env('together')}"
    # 100 replicas x 58 in flight = 5800 slots; the restricted support route (0.2 of 650M requests a month, a third
    # in this region, 10x at the peak: 164.9 a second, each holding a slot for 300 tokens x 30 ms) keeps 1485; chat
    # holds the other 4315, over 2 gateway pods
    assert home["litellm_params"]["max_parallel_requests"] == 2157
    assert chain(config, "chat") == ["chat--fallback-1", "chat--fallback-2"]
    assert [deployments(config, n)[0]["litellm_params"]["model"] for n in chain(config, "chat")] == [
        "together_ai/meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo", "openai/gpt-4o-mini"]


def test_the_overflow_limit_follows_replicas_and_replica_concurrency(hybrid):
    hybrid["gateway"]["replicaConcurrency"] = 8
    hybrid["traffic"]["requestsPerMonth"] = 65_000_000
    hybrid["regions"][1]["autoscaling"] = {"maxReplicas": 5}
    spec = parse_stack_config(hybrid)
    east, west, _ = (gc.overflow_limits(spec, r) for r in spec.regions)
    # support keeps its peak in flight: 65M x 0.2 / 3 regions x 10 / 2,628,000 s = 16.49 a second x 9 s = 149 slots;
    # east: (100 x 8 - 149) / 2 pods; west: 5 x 8 = 40 slots, all reserved: chat keeps the floor of 1 a pod
    assert east == {"chat": 325} and west == {"chat": 1}


def test_the_restricted_route_is_reserved_its_peak_not_a_proportional_share(hybrid):
    """The old rule gave chat its 0.79/0.99 of the fleet's slots whatever support needed at the peak: at a cap below
    the peak, support queued while chat held fleet slots. Now chat holds what support leaves."""
    hybrid["gateway"]["replicaConcurrency"] = 8
    hybrid["traffic"]["requestsPerMonth"] = 65_000_000
    spec = parse_stack_config(hybrid)
    region = spec.regions[0]
    plan = overflow_plan(spec, region)
    assert (plan.fleet_slots, plan.reserved_slots, plan.pods) == (800, 149, 2)
    assert gc.overflow_limits(spec, region)["chat"] * 2 + plan.reserved_slots <= plan.fleet_slots
    # more than the proportional share where support needs less than its 0.2/0.99 of the slots at the peak ...
    assert gc.overflow_limits(spec, region)["chat"] == 325 > 800 * 0.79 / 0.99 / 2
    # ... and less where a smaller fleet would otherwise leave support queueing
    hybrid["regions"][0]["autoscaling"] = {"maxReplicas": 30}
    small = parse_stack_config(hybrid)
    assert gc.overflow_limits(small, small.regions[0])["chat"] == (240 - 149) // 2 < 240 * 0.79 / 0.99 / 2
    del hybrid["regions"][0]["autoscaling"]
    # a busier restricted route leaves chat less
    hybrid["gateway"]["routes"][0]["share"], hybrid["gateway"]["routes"][1]["share"] = 0.59, 0.4
    assert gc.overflow_limits(parse_stack_config(hybrid), region)["chat"] == (800 - 297) // 2


def test_a_route_without_overflow_has_no_limit_or_second_deployment(hybrid):
    del hybrid["gateway"]["routes"][0]["overflowTo"]
    config = gc.render_config(parse_stack_config(hybrid), vllm_base_url=VLLM)
    [home] = deployments(config, "chat")
    assert "order" not in home["litellm_params"] and "max_parallel_requests" not in home["litellm_params"]
    assert chain(config, "chat") == ["chat--fallback-1", "chat--fallback-2"]


def test_the_budget_is_split_over_providers_and_gateway_pods(hybrid):
    # 25000 USD, two providers, three regions x two gateway pods: evenly when the stack gives no split
    del hybrid["gateway"]["providerBudgetsMonthlyUsd"]
    even = parse_stack_config(hybrid)
    assert gc.provider_budgets(even) == {"together_ai": 2083.333333, "openai": 2083.333333}
    config = gc.render_config(even, vllm_base_url=VLLM)
    assert config["router_settings"]["provider_budget_config"] == {
        p: {"budget_limit": 2083.333333, "time_period": gc.BUDGET_WINDOW} for p in ("together_ai", "openai")}


def test_a_stated_provider_budget_split_is_rendered_per_pod(spec):
    # the shipped stack: together 22000, openai 3000, over six gateway pods
    config = gc.render_config(spec, vllm_base_url=VLLM)
    assert config["router_settings"]["provider_budget_config"] == {
        "together_ai": {"budget_limit": 3666.666667, "time_period": gc.BUDGET_WINDOW},
        "openai": {"budget_limit": 500.0, "time_period": gc.BUDGET_WINDOW}}


def test_a_stack_reaching_no_api_has_no_budget_config(hybrid):
    hybrid["gateway"] = {"routes": [{"name": "chat", "share": 1}]}
    config = gc.render_config(parse_stack_config(hybrid), vllm_base_url=VLLM)
    assert "provider_budget_config" not in config["router_settings"]
    assert [d["litellm_params"]["model"] for d in config["model_list"]] == ["hosted_vllm/llama-3.1-8b-instruct"]


def test_provider_ids_map_to_litellm_prefixes():
    assert gc.litellm_model("together:meta-llama/X") == "together_ai/meta-llama/X"
    assert gc.litellm_model("google:gemini-2.5-flash") == "gemini/gemini-2.5-flash"
    assert gc.litellm_model("x-ai:grok-4") == "xai/grok-4"
    with pytest.raises(gc.UnsupportedProvider, match="'azure'.*anthropic"):
        gc.litellm_model("azure:gpt-4o")


def test_unsupported_providers_names_them(hybrid):
    # (validate now refuses such a stack: build the spec past the checks to test the helper they use)
    spec = parse_stack_config(hybrid)
    routes = list(spec.gateway.routes)
    routes[2] = routes[2].model_copy(update={"served_by": "azure:gpt-4o"})
    spec = spec.model_copy(update={"gateway": spec.gateway.model_copy(update={"routes": routes})})
    assert gc.unsupported_providers(spec) == ["azure"]


def test_the_rendered_files_hold_the_config_and_the_policy_hook(spec):
    files = gc.render_files(spec, vllm_base_url=VLLM)
    assert set(files) == {gc.CONFIG_FILE, gc.HOOK_FILE}
    config = yaml.safe_load(files[gc.CONFIG_FILE])
    assert f"{gc.HOOK_MODULE}.policy" in config["litellm_settings"]["callbacks"]
    assert "prometheus" in config["litellm_settings"]["callbacks"]
    assert "\npolicy = GatewayPolicy(" in files[gc.HOOK_FILE]
    assert config["general_settings"]["master_key"] == f"os.environ/{gc.MASTER_KEY_ENV}"
    # stable deployment ids (the metrics' model_id label), distinct
    ids = [d["model_info"]["id"] for d in config["model_list"]]
    assert len(ids) == len(set(ids)) and "chat--self-hosted" in ids


def test_the_gateway_starts_offline_and_the_image_is_digest_pinned():
    assert gc.GATEWAY_ENV["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    assert re.fullmatch(r"ghcr\.io/berriai/litellm:v1\.\d+\.\d+@sha256:[0-9a-f]{64}", gc.LITELLM_IMAGE)
    assert gc.LITELLM_IMAGE.split(":v", 1)[1].startswith(gc.LITELLM_VERSION + "@")
    assert gc.LITELLM_VERSION not in ("1.82.7", "1.82.8")  # the compromised releases (BerriAI/litellm#24512)


def test_region_must_exist(spec):
    with pytest.raises(ValueError, match="no region 'eu-west-1'"):
        gc.render_config(spec, vllm_base_url=VLLM, region="eu-west-1")


def test_provider_keys_live_under_names_litellm_never_reads_on_its_own():
    """LiteLLM's pass-through routes read `<custom_llm_provider>_API_KEY` from the environment (and its files,
    batches and vector-store endpoints `OPENAI_API_KEY`): a key under such a name lets any client send anything to
    that provider, past the routes and the budget. The gateway's keys are only reachable from the rendered config."""
    for provider, prefix in gc.LITELLM_PROVIDERS.items():
        name = gc.provider_key_env(provider)
        defaults = {f"{prefix.upper()}_API_KEY", f"{provider.upper().replace('-', '_')}_API_KEY",
                    f"{prefix.upper().removesuffix('_AI').removesuffix('_CHAT')}_API_KEY"}
        assert name not in defaults, (provider, name)
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", name), name


def test_the_hook_reads_the_config_file_the_gateway_mounts_beside_it():
    """The policy hook finds the routes in CONFIG_FILE beside itself (it cannot import the project in the image)."""
    import ast

    tree = ast.parse(gc.hook_source())
    [value] = [n.value.value for n in tree.body if isinstance(n, ast.Assign)
               and [t.id for t in n.targets if isinstance(t, ast.Name)] == ["CONFIG_FILE"]]
    assert value == gc.CONFIG_FILE
