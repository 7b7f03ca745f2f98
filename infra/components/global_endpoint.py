"""One global entry point in front of the regional load balancers: AWS Global Accelerator.

Two static anycast IPs; each client enters AWS at the nearest edge and reaches the nearest
healthy region. Per region, `trafficDial` (0-100) sets the share of that region's traffic the
accelerator sends there: 0 drains a region, a small value canaries it. Why an accelerator and
not Route 53 latency records: docs/operations.md "Regions".

Region health: the endpoint group's health-check options apply only to EC2 instance and Elastic IP
endpoints; for an ALB endpoint Global Accelerator uses the ALB's own target health (the target
group's GET /health checks) (AWS Global Accelerator developer guide, "Changing health check
options", read 2026-11-24). So the endpoint groups set no health_check_* values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.components.load_balancer import LoadBalancer, listener_ports
from infra.naming import base_tags
from infra.spec import RegionSpec, StackSpec

# Global Accelerator's control-plane API is only served from us-west-2 (AWS Global Accelerator
# developer guide, "Global Accelerator API endpoint", read 2026-11-24).
API_REGION = "us-west-2"
# Weight of the single ALB in each endpoint group (128 is the API's default).
ENDPOINT_WEIGHT = 128


def endpoint_group_settings(spec: StackSpec, region: RegionSpec) -> dict[str, Any]:
    """Endpoint-group inputs that come from the spec alone (the ALB ARN is added by the component)."""
    return {
        "endpoint_group_region": region.region,
        "traffic_dial_percentage": region.traffic_dial,
    }


@dataclass
class GlobalEndpointArgs:
    spec: StackSpec
    """The stack spec (endpoint settings, hostname)."""
    regions: list[tuple[RegionSpec, LoadBalancer]]
    """Each region with the load balancer built for it."""
    aws_profile: str | None = None
    """The stack's `aws:profile`, for the accelerator's provider."""


class GlobalEndpoint(pulumi.ComponentResource):
    """Accelerator, one TCP listener on the ALB listener ports, one endpoint group per region, DNS alias."""

    dns_name: pulumi.Output[str]
    ip_addresses: pulumi.Output[list[str]]

    def __init__(self, name: str, args: GlobalEndpointArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tradeoff-infra:edge:GlobalEndpoint", name, None, opts)
        spec = args.spec
        provider = aws.Provider(
            f"{name}-{API_REGION}",
            region=API_REGION,
            profile=args.aws_profile,
            default_tags={"tags": base_tags(pulumi.get_stack(), "global")},
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, provider=provider)

        accelerator = aws.globalaccelerator.Accelerator(
            f"{name}-accelerator", ip_address_type="IPV4", enabled=True, opts=child
        )
        listener = aws.globalaccelerator.Listener(
            f"{name}-listener",
            accelerator_arn=accelerator.arn,
            protocol="TCP",
            # Long generations hold one connection; no affinity keeps routing by proximity and health.
            client_affinity="NONE",
            port_ranges=[
                aws.globalaccelerator.ListenerPortRangeArgs(from_port=port, to_port=port) for port in listener_ports(spec)
            ],
            opts=child,
        )
        for region, load_balancer in args.regions:
            aws.globalaccelerator.EndpointGroup(
                f"{name}-{region.region}",
                listener_arn=listener.arn,
                endpoint_configurations=[
                    aws.globalaccelerator.EndpointGroupEndpointConfigurationArgs(
                        endpoint_id=load_balancer.arn,
                        weight=ENDPOINT_WEIGHT,
                        # The ALB sees the real client address, so endpoint.allowedCidrs still applies.
                        client_ip_preservation_enabled=True,
                    )
                ],
                **endpoint_group_settings(spec, region),
                opts=child,
            )
        if spec.endpoint.hostname:
            aws.route53.Record(
                f"{name}-dns",
                zone_id=spec.endpoint.hosted_zone_id,
                name=spec.endpoint.hostname,
                type="A",
                aliases=[
                    aws.route53.RecordAliasArgs(
                        name=accelerator.dns_name, zone_id=accelerator.hosted_zone_id, evaluate_target_health=True
                    )
                ],
                opts=child,
            )

        self.dns_name = accelerator.dns_name
        self.ip_addresses = accelerator.ip_sets.apply(
            lambda sets: [ip for ip_set in sets or [] for ip in ip_set.ip_addresses or []]
        )
        self.register_outputs({"dns_name": self.dns_name, "ip_addresses": self.ip_addresses})
