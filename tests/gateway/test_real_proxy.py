"""The gateway with the real LiteLLM proxy (the pinned release, `.tools/litellm` from `scripts/setup.sh --test`):
the files the Pulumi program puts in the first region's gateway ConfigMap for the shipped stacks/Pulumi.hybrid.yaml
(run under recording mocks), service addresses substituted, in front of two OpenAI-compatible stubs on loopback, one
standing in for vLLM, one for every API provider; started with the container's arguments (`proxy_args`).

One proxy for the module (its start-up takes tens of seconds on a small runner); the tests share it in file order
(`xdist_group` keeps them on one worker) and each sets the stubs' state it needs. The budget test runs last: it
spends the gateway's budget for good. Every request loop is bounded and every wait has a deadline."""

from __future__ import annotations

import concurrent.futures
import json
import re
import time
import urllib.error
import urllib.request

import pytest
import yaml

from infra import gateway_config
from infra.conventions import VLLM_NAMESPACE
from infra.program import region_prefix
from infra.spec import project_config
from infra.spec.loading import parse_stack_config
from tests.gateway.harness import (LITELLM_BIN, LITELLM_VENV, REQUEST_TIMEOUT_S, Proxy, Sinkhole, StubServer,
                                  offline_env)
from tests.paths import ROOT

if not LITELLM_BIN.exists():
    pytest.skip("LiteLLM's proxy is not installed: run scripts/setup.sh --test (it installs "
                f"litellm[proxy]=={gateway_config.LITELLM_VERSION} into .tools/litellm)", allow_module_level=True)

pytestmark = pytest.mark.xdist_group("litellm-proxy")

STACK = ROOT / "stacks" / "Pulumi.hybrid.yaml"
HYBRID = "hybrid"
KEY = "tradeoff-infra-test-key"  # the stack's vllmApiKey; no `sk-` prefix: the master key may have any form
VLLM_MODEL = "llama-3.1-8b-instruct"          # what the gateway asks vLLM for (the stack's model.name)
TOGETHER_MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo"


@pytest.fixture(scope="module")
def small_fleet() -> dict:
    """The shipped stack's routes, offers and budget on a fleet a loopback burst can fill: 4 replicas a region of
    4 requests in flight (16 slots) and 2.6M requests a month, so the restricted support route keeps 6 slots (its
    peak in flight: 0.2 x 2.6M / 3 regions x 10 / 2,628,000 s x 300 tokens x 30 ms) and chat holds the other 10,
    5 per gateway pod (infra.gateway_overflow). The shipped stack's own limits (2157 a pod) are too many to burst."""
    config = project_config(yaml.safe_load(STACK.read_text()))
    config["autoscaling"] = {**config["autoscaling"], "maxReplicas": 4}
    config["gateway"] = {**config["gateway"], "replicaConcurrency": 4}
    config["traffic"] = {**config["traffic"], "requestsPerMonth": 2_600_000}
    return config


@pytest.fixture(scope="module")
def spec(small_fleet):
    return parse_stack_config(small_fleet, str(STACK), deploy=False)


def premium_offer(spec) -> tuple[str, str]:
    """(LiteLLM provider, model) of the offer the premium route is served by."""
    provider, model = next(r.served_by for r in spec.gateway.routes if r.name == "premium").split(":", 1)
    return gateway_config.litellm_provider(provider), model


def program_files(inventory, spec, *, vllm_base_url: str, provider_base_urls: dict[str, str]) -> dict[str, str]:
    """The program's ConfigMap data for the stack's first region, its service addresses substituted: vLLM's
    in-cluster URL by `vllm_base_url`, and each API deployment's endpoint by its provider's stub (an `api_base`
    after its key, where render_files puts one). Nothing else changes: the result is what render_files gives for
    those addresses (asserted), and the hook file is the program's, byte for byte."""
    region = spec.regions[0]
    (config_map,) = [r for r in inventory.resources if r.region == region.region
                     and r.type == "kubernetes:core/v1:ConfigMap" and r.name.endswith("-gateway-config")]
    files = dict(config_map.inputs["data"])
    in_cluster = f"http://{region_prefix(region.region)}-vllm.{VLLM_NAMESPACE}.svc.cluster.local:8000/v1"
    assert in_cluster in files[gateway_config.CONFIG_FILE]
    config = yaml.safe_load(files[gateway_config.CONFIG_FILE].replace(in_cluster, vllm_base_url))
    by_prefix = {gateway_config.litellm_provider(p): url for p, url in provider_base_urls.items()}
    for deployment in config["model_list"]:
        params = deployment["litellm_params"]
        prefix = params["model"].split("/", 1)[0]
        if prefix != gateway_config.SELF_HOSTED_PROVIDER:
            rest = {k: params.pop(k) for k in list(params) if k not in ("model", "api_key")}
            params.update({"api_base": by_prefix[prefix], **rest})
    files[gateway_config.CONFIG_FILE] = yaml.safe_dump(config, sort_keys=False)
    assert files == gateway_config.render_files(spec, vllm_base_url=vllm_base_url,
                                                provider_base_urls=provider_base_urls, region=region.region)
    return files


@pytest.fixture(scope="module")
def gateway(spec, small_fleet, tmp_path_factory):
    """(proxy, vllm stub, provider stub, sinkhole): the proxy started with no network (its HTTP(S) proxies point
    at the sinkhole, which records any attempt to reach a non-loopback address)."""
    vllm, provider = StubServer("vllm"), StubServer("provider")
    vllm.start()
    provider.start()
    providers = {p: provider.base_url for p in ("together", "openai")}
    assert set(providers) == {o.split(":", 1)[0] for o in spec.gateway.api_offers()}, "a provider without a stub"
    from cli.inventory import run_program  # the program, run on the small-fleet stack (its config is what runs)
    from tests.chart_render import helm_template

    inventory = run_program(small_fleet, HYBRID, helm_template=helm_template)
    files = program_files(inventory, spec, vllm_base_url=vllm.base_url, provider_base_urls=providers)
    sinkhole = Sinkhole()
    env = {**offline_env(sinkhole), **gateway_config.GATEWAY_ENV, gateway_config.MASTER_KEY_ENV: KEY,
           gateway_config.VLLM_KEY_ENV: "vllm-key"}
    env.update({gateway_config.provider_key_env(p): f"{p}-key" for p in providers})
    proxy = Proxy(files, env, tmp_path_factory.mktemp("litellm"))
    try:
        yield proxy, vllm, provider, sinkhole
    finally:
        proxy.stop()
        vllm.stop()
        provider.stop()
        sinkhole.close()


@pytest.fixture
def fresh(gateway):
    """The gateway with both stubs up, fast, and their counts at zero."""
    proxy, vllm, provider, sinkhole = gateway
    for stub in (vllm, provider):
        stub.stop()
        stub.reset()
        stub.start()
    return gateway


def saturated_burst(proxy: Proxy, vllm: StubServer, model: str, n: int) -> list[tuple[int, dict]]:
    """`n` concurrent requests to route `model` while the vLLM stub holds every request it gets: once each request
    is either held at vLLM or already answered (overflowed or refused), vLLM is released. Independent of how fast
    the machine is; bounded by the deadline and the harness's timeouts."""
    return saturated_mix(proxy, vllm, {model: n})[model]


def saturated_mix(proxy: Proxy, vllm: StubServer, counts: dict[str, int]) -> dict[str, list[tuple[int, dict]]]:
    """`saturated_burst` for several routes at once: the first route's requests are sent and settled (held at vLLM
    or answered) before the next route's are sent, so the first holds its slots when the others arrive."""
    vllm.hold()
    try:
        n = sum(counts.values())
        with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
            futures: dict[str, list] = {}
            deadline = time.monotonic() + 90
            for model, count in counts.items():
                futures[model] = [pool.submit(proxy.chat, model, KEY) for _ in range(count)]
                sent = sum(len(f) for f in futures.values())
                while vllm.waiting + sum(f.done() for fs in futures.values() for f in fs) < sent:
                    assert time.monotonic() < deadline, f"{vllm.waiting} held of {sent} sent"
                    time.sleep(0.1)
            vllm.release()
            return {model: [f.result() for f in fs] for model, fs in futures.items()}
    finally:
        vllm.release()


def overflow_limit(proxy: Proxy, route: str) -> int:
    config = yaml.safe_load(proxy.config_path.read_text())
    [limit] = [d["litellm_params"]["max_parallel_requests"] for d in config["model_list"]
               if d["model_name"] == route and "max_parallel_requests" in d["litellm_params"]]
    return limit


def test_the_installed_proxy_is_the_pinned_release_and_knows_every_mapped_provider():
    """Read from the installed files (importing litellm takes seconds): its version and its `LlmProviders` enum,
    which `litellm.provider_list` is made of."""
    [site] = LITELLM_VENV.glob("lib/python*/site-packages")
    assert [p.name for p in site.glob("litellm-*.dist-info")] == [f"litellm-{gateway_config.LITELLM_VERSION}.dist-info"]
    enum = (site / "litellm" / "types" / "utils.py").read_text().split("class LlmProviders(str, Enum):", 1)[1]
    providers = set(re.findall(r'^    [A-Z0-9_]+ = "([^"]+)"', enum.split("\nclass ", 1)[0], re.M))
    assert len(providers) > 50 and gateway_config.SELF_HOSTED_PROVIDER in providers  # the enum was read
    assert sorted(set(gateway_config.LITELLM_PROVIDERS.values()) - providers) == []


def test_starts_with_no_network(gateway):
    proxy, _, _, sinkhole = gateway
    assert proxy.process.poll() is None, proxy.log()
    assert sinkhole.connections == [], f"the proxy tried to reach the network while starting: {sinkhole.connections}"
    # the pods' probe paths answer without a key (a wrong path would keep every pod unready or restarting)
    for path in (gateway_config.READINESS_PATH, gateway_config.HEALTH_PATH):
        status, text = proxy.get(path)
        assert status == 200, (path, text)


def test_normal_traffic_is_served_by_the_fleet(fresh):
    proxy, vllm, provider, _ = fresh
    for route in ("chat", "support") * 5:
        status, body = proxy.chat(route, KEY)
        assert status == 200, body
        assert body["choices"][0]["message"]["content"] == "answered by vllm"
    assert vllm.received == {VLLM_MODEL: 10}
    assert provider.total == 0


def test_premium_is_served_by_its_api(fresh, spec):
    proxy, vllm, provider, _ = fresh
    status, body = proxy.chat("premium", KEY)
    assert status == 200, body
    assert provider.received == {premium_offer(spec)[1]: 1} and vllm.total == 0


def test_overflow_above_the_fleet_limit_goes_to_the_api_for_overflow_routes_only(fresh):
    proxy, vllm, provider, _ = fresh
    limit = overflow_limit(proxy, "chat")
    n = limit + 12
    answers = saturated_burst(proxy, vllm, "chat", n)
    assert [s for s, _ in answers] == [200] * n, [b for s, b in answers if s != 200][:2]
    overflowed = provider.received[TOGETHER_MODEL]
    assert overflowed >= 1, f"nothing overflowed: vLLM got {vllm.received}"
    assert vllm.max_in_flight == limit, "the gateway let other than its limit in flight at the fleet"
    assert vllm.received[VLLM_MODEL] + overflowed == n

    # the restricted route has no overflow: the same burst all waits for the fleet
    vllm.reset()
    provider.reset()
    answers = saturated_burst(proxy, vllm, "support", n)
    assert [s for s, _ in answers] == [200] * n, [b for s, b in answers if s != 200][:2]
    assert vllm.received == {VLLM_MODEL: n}
    assert provider.total == 0
    assert vllm.max_in_flight == n  # all held at the fleet at once, far past the chat route's limit


def test_chat_holding_its_limit_leaves_the_fleet_to_the_restricted_route(fresh, spec):
    """The overflow rule's priority (infra.gateway_overflow): with chat holding all the fleet slots it may hold, the
    restricted route's requests still all reach the fleet (it has no gateway limit and its reserve is free), while
    chat's further requests go to the API at once. LiteLLM has no priority between routes: the reserve is how."""
    from infra.gateway_overflow import overflow_plan

    proxy, vllm, provider, _ = fresh
    limit = overflow_limit(proxy, "chat")
    plan = overflow_plan(spec, spec.regions[0])
    assert plan.per_pod == {"chat": limit} and plan.reserved_slots == 6 and limit * plan.pods + 6 <= plan.fleet_slots
    extra = 3
    answers = saturated_mix(proxy, vllm, {"chat": limit + extra, "support": plan.reserved_slots})
    assert all(s == 200 for rs in answers.values() for s, _ in rs), answers
    assert vllm.max_in_flight == limit + plan.reserved_slots  # chat's limit and every support request, at once
    assert provider.received == {TOGETHER_MODEL: extra}  # chat's overflow only: no support request left the fleet
    assert sorted(b["choices"][0]["message"]["content"] for _, b in answers["support"]) == ["answered by vllm"] * 6


def test_with_the_fleet_down_a_fallback_route_answers_from_the_api(fresh):
    proxy, vllm, provider, _ = fresh
    vllm.stop()
    for _ in range(3):
        status, body = proxy.chat("chat", KEY)
        assert status == 200, body
        assert body["choices"][0]["message"]["content"] == "answered by provider"
    assert provider.total == 3 and vllm.total == 0


def test_a_hung_fleet_times_out_into_the_fallback_chain_but_not_for_the_restricted_route(fresh):
    """The rendered self-hosted `timeout` (a long request's time, 62 s here) is too long for a test: the client's
    `timeout` stands in for it; what is shown is that LiteLLM treats a timeout like any failure."""
    proxy, vllm, provider, _ = fresh
    vllm.hold()
    try:
        status, body = proxy.chat("chat", KEY, {"timeout": 2})
        assert status == 200 and body["choices"][0]["message"]["content"] == "answered by provider", (status, body)
        status, body = proxy.chat("support", KEY, {"timeout": 2})
        assert status == 408, (status, body)  # LiteLLM's Timeout: refused, and nothing went anywhere else
    finally:
        vllm.release()
    assert provider.total == 1


def test_with_the_fleet_down_the_restricted_route_fails_closed(fresh):
    proxy, vllm, provider, _ = fresh
    vllm.stop()
    for _ in range(3):
        status, body = proxy.chat("support", KEY)
        assert 500 <= status < 600, (status, body)
    # a client cannot name its own way out either: client-side fallbacks are refused before routing
    for extra in ({"fallbacks": ["premium"]}, {"fallbacks": [{"model": "premium"}]},
                  {"context_window_fallbacks": [{"support": ["premium"]}]},
                  {"router_settings_override": {"fallbacks": [{"support": ["premium"]}]}}):
        status, body = proxy.chat("support", KEY, extra)
        assert status == 400, (extra, status, body)
    assert provider.total == 0, f"restricted requests reached the API: {provider.received}"


def test_routes_outside_the_stack_are_refused(fresh):
    """No wildcard route: a client cannot call a provider model the stack does not name."""
    proxy, vllm, provider, _ = fresh
    for model in ("openai/gpt-5", "together_ai/some-model", "gpt-4o", "*"):
        status, body = proxy.chat(model, KEY)
        assert status == 400, (model, status, body)
    # nor a deployment by its id or its provider model, a fallback group, or several names at once (LiteLLM's
    # router answers each of these): clients call routes only
    config = yaml.safe_load(proxy.config_path.read_text())
    deployments = config["model_list"]
    names = {d["model_info"]["id"] for d in deployments} | {d["litellm_params"]["model"] for d in deployments}
    names |= {d["model_name"] for d in deployments if "--fallback-" in d["model_name"]}
    assert "premium--api" in names and f"together_ai/{TOGETHER_MODEL}" in names
    for model in sorted(names) + ["support,premium", "premium,chat"]:
        status, body = proxy.chat(model, KEY)
        assert status == 400, (model, status, body)
    assert provider.total == 0 and vllm.total == 0


def post(proxy: Proxy, path: str, body: dict) -> int:
    """POST a JSON body with the client key; the status."""
    req = urllib.request.Request(f"{proxy.url}{path}", data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"})
    try:
        with urllib.request.urlopen(req, timeout=REQUEST_TIMEOUT_S) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_provider_pass_through_routes_cannot_use_the_gateway_keys(fresh):
    """LiteLLM serves pass-through routes (`/openai/...` and others) that forward any body to the provider with a
    key from the environment, and vector-store and batch endpoints that call OpenAI without a route: with the
    gateway's keys under LiteLLM's own names a client could send a restricted request to OpenAI past every route,
    hook and budget, and the vector-store endpoints send their bodies out even without a key. Each is refused and
    nothing leaves."""
    proxy, vllm, provider, sinkhole = fresh
    seen = len(sinkhole.connections)
    restricted = [{"role": "user", "content": "restricted"}]
    for path, body in (("/openai/v1/chat/completions", {"model": "support", "messages": restricted}),
                       ("/v1/vector_stores", {"name": "tickets"}),
                       ("/v1/vector_stores/vs_1/search", {"query": "restricted"}),
                       ("/v1/batches", {"input_file_id": "file-1", "endpoint": "/v1/chat/completions",
                                        "completion_window": "24h"})):
        status = post(proxy, path, body)
        assert status >= 400, (path, status)
    assert provider.total == 0 and vllm.total == 0
    assert sinkhole.connections[seen:] == [], f"a request tried to reach a provider: {sinkhole.connections[seen:]}"


def test_metrics_the_dashboards_use_are_exported_without_a_key(fresh, spec):
    proxy, _, _, _ = fresh
    assert proxy.chat("chat", KEY)[0] == 200 and proxy.chat("premium", KEY)[0] == 200
    status, text = proxy.get(gateway_config.METRICS_PATH)
    assert status == 200, text[:300]
    for name in (gateway_config.METRIC_DEPLOYMENT_SUCCESS, gateway_config.METRIC_DEPLOYMENT_FAILURE,
                 gateway_config.METRIC_DEPLOYMENT_TOTAL, gateway_config.METRIC_SPEND, gateway_config.METRIC_PROVIDER_REMAINING_BUDGET,
                 gateway_config.METRIC_PROXY_FAILED):
        assert f"# HELP {name} " in text, name
    success = [line for line in text.splitlines() if line.startswith(gateway_config.METRIC_DEPLOYMENT_SUCCESS + "{")]
    # the rendered stable deployment ids and the provider label tell self-hosted from API answers
    assert any('model_id="chat--self-hosted"' in line and
               f'api_provider="{gateway_config.SELF_HOSTED_PROVIDER}"' in line for line in success), success
    assert any('model_id="premium--api"' in line and f'api_provider="{premium_offer(spec)[0]}"' in line
               for line in success), success


def test_the_client_key_needs_no_sk_prefix_and_a_wrong_key_is_refused(fresh):
    """The gateway's master key is the stack's vllmApiKey as it is: LiteLLM compares the master key before its
    `sk-` rule for virtual keys (so `pulumi up` does not ask for one); any other key is refused."""
    proxy, vllm, provider, _ = fresh
    assert not KEY.startswith("sk-")
    assert proxy.chat("chat", KEY)[0] == 200
    for wrong in ("wrong-key", "sk-wrong-key"):
        status, _ = proxy.chat("chat", wrong)
        assert 400 <= status < 500, (wrong, status)
    assert vllm.received[f"{VLLM_MODEL}"] >= 1 and provider.total == 0


def test_past_the_api_budget_overflow_is_refused(fresh, spec):
    """Runs last: it spends the gateway's budget (every provider's share) for good."""
    proxy, vllm, provider, sinkhole = fresh
    budgets = gateway_config.provider_budgets(spec)
    assert set(budgets) == {"openai", "together_ai"}
    # one answer from each provider, each billed far above its share of the budget
    provider.usage_tokens = 10**12  # far above any provider's per-pod share, whatever the stack's split
    assert proxy.chat("premium", KEY)[0] == 200                       # premium's provider (together)
    vllm.stop()
    assert proxy.chat("chat", KEY)[0] == 200                          # chat's fallback chain (the fleet is down)
    vllm.start()
    provider.usage_tokens = 10
    spent = provider.total
    deadline = time.monotonic() + 30  # LiteLLM counts spend after the answer: wait until it refuses
    while proxy.chat("premium", KEY)[0] == 200:
        assert time.monotonic() < deadline, "the gateway never refused the API past its budget"
        spent += 1
        time.sleep(0.5)
    assert provider.total == spent

    limit = overflow_limit(proxy, "chat")
    answers = saturated_burst(proxy, vllm, "chat", limit + 12)
    refused = [b for s, b in answers if s != 200]
    assert refused, "every request was answered: nothing was above the fleet's limit"
    assert all(s == 429 for s, _ in answers if s != 200), refused[:2]
    assert "budget" in str(refused[0])
    assert provider.total == spent, "the gateway overflowed to an API past its budget"
    assert vllm.max_in_flight <= limit

    for route in ("chat", "support"):  # the fleet still serves
        assert proxy.chat(route, KEY)[0] == 200
    assert sinkhole.connections == [], f"the proxy tried to reach the network: {sinkhole.connections}"
