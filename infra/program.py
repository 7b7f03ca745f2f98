"""The Pulumi program: one RegionalDeployment per region, the global endpoint, the stack outputs.

`build(spec, ...)` is called by `infra/__main__.py` under a real `pulumi up` and by
`cli.inventory.run_program` under recording mocks; it never reads config itself.
"""

from __future__ import annotations

import pulumi

from infra.components.global_endpoint import GlobalEndpoint, GlobalEndpointArgs
from infra.components.region import RegionalDeployment, RegionalDeploymentArgs
from infra.spec import StackSpec

# Top-level keys of the stack spec (the camelCase names under `tradeoff-infra:`).
CONFIG_KEYS = [field.alias or name for name, field in StackSpec.model_fields.items()]

_DIRECTIONS = {"east": "e", "west": "w", "north": "n", "south": "s", "central": "c",
               "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw"}


def region_prefix(region: str) -> str:
    """Short resource-name prefix: `us-east-1` -> `use1`, `ap-northeast-1` -> `apne1`, `us-gov-west-1` -> `usgovw1`."""
    parts = region.split("-")
    if len(parts) < 3 or not parts[-1].isdigit():
        raise ValueError(f"{region!r} is not an AWS region code")
    return parts[0] + "".join(_DIRECTIONS.get(p, p) for p in parts[1:-1]) + parts[-1]


def build(spec: StackSpec, api_key: pulumi.Input[str], huggingface_token: pulumi.Input[str] | None = None,
          aws_profile: str | None = None, provider_api_keys: dict[str, pulumi.Input[str]] | None = None) -> None:
    """`aws_profile`: the stack's `aws:profile`, passed to every explicit AWS provider (they do not
    inherit the default provider's config) and to the kubeconfigs' `aws eks get-token`.
    `provider_api_keys`: the gateway's API keys by provider (`providerApiKeys`, secrets), for a `gateway` block."""
    stack = pulumi.get_stack()
    deployments = []
    for region in spec.regions:
        prefix = region_prefix(region.region)
        deployments.append((region, RegionalDeployment(prefix, RegionalDeploymentArgs(
            spec=spec, region=region, prefix=prefix, stack=stack,
            api_key=api_key, huggingface_token=huggingface_token, aws_profile=aws_profile,
            provider_api_keys=dict(provider_api_keys or {}),
        ))))

    # With a hostname the ALB's certificate names the hostname, not the ALB's DNS name: export that URL.
    if spec.endpoint.hostname:
        endpoints = {r.region: pulumi.Output.from_input(f"https://{spec.endpoint.hostname}") for r, d in deployments}
    else:
        endpoints = {r.region: d.load_balancer.dns_name.apply(lambda dns: f"http://{dns}") for r, d in deployments}
    if spec.endpoint.mode == "global-accelerator":
        edge = GlobalEndpoint("global", GlobalEndpointArgs(spec=spec, regions=[(r, d.load_balancer) for r, d in deployments],
                                                        aws_profile=aws_profile))
        global_url = (pulumi.Output.from_input(f"https://{spec.endpoint.hostname}") if spec.endpoint.hostname
                      else edge.dns_name.apply(lambda dns: f"http://{dns}"))
        pulumi.export("globalAcceleratorIps", edge.ip_addresses)
    else:
        global_url = (pulumi.Output.from_input(f"https://{spec.endpoint.hostname}") if spec.endpoint.hostname
                      else endpoints[spec.regions[0].region])

    pulumi.export("endpoints", endpoints)
    # Each region's own ALB, to test or debug one region past the global endpoint (send the stack's
    # hostname as Host: the ALB forwards only that, and /v1/* only).
    pulumi.export("loadBalancers", {r.region: d.load_balancer.dns_name for r, d in deployments})
    pulumi.export("globalEndpoint", global_url)
    # What each region's vLLM loads: the in-region mirror's s3:// path, or source@revision on Hugging Face.
    pulumi.export("modelPaths", {r.region: d.vllm.model_path for r, d in deployments})
    pulumi.export("clusterNames", {r.region: d.cluster.cluster_name for r, d in deployments})
    pulumi.export("kubeconfigs", pulumi.Output.secret({r.region: d.cluster.kubeconfig for r, d in deployments}))
