"""Who can reach what, read back from a planned inventory: per region the VPC range, the Kubernetes
API's endpoints and the load balancer's scheme and allowed ranges.

`tradeoff-infra inventory` prints these lines under its table, so a reviewer sees at a glance that
the regions' VPCs do not overlap and that the API is reachable on the first `pulumi up`. Pulumi-free
(it reads `PlannedResource`s, as cached), and derived from the recorded resources, not from the spec.
"""

from __future__ import annotations

from collections.abc import Iterable

from cli.planned import PlannedResource

VPC = "aws:ec2/vpc:Vpc"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
TGW_ATTACHMENT = "aws:ec2transitgateway/vpcAttachment:VpcAttachment"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LOAD_BALANCERS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
LB_COMPONENT = "tradeoff-infra:edge:LoadBalancer"


def _api_line(cluster: PlannedResource, by_region: list[PlannedResource]) -> str:
    vpc_config = cluster.inputs.get("vpcConfig") or {}
    parts = []
    if vpc_config.get("endpointPublicAccess"):
        parts.append(f"public endpoint from {', '.join(vpc_config.get('publicAccessCidrs') or ['0.0.0.0/0'])}")
    transit = sorted({route["cidrBlock"] for r in by_region if r.type == ROUTE_TABLE
                      for route in r.inputs.get("routes") or [] if route.get("transitGatewayId")})
    gateways = sorted({r.inputs.get("transitGatewayId") for r in by_region if r.type == TGW_ATTACHMENT} - {None})
    if transit and gateways:
        parts.append(f"private endpoint from {', '.join(transit)} via Transit Gateway {', '.join(gateways)}")
    if not parts:
        parts.append("UNREACHABLE from outside the VPC (no public endpoint, no Transit Gateway)")
    return "; ".join(parts)


def _load_balancer_line(by_region: list[PlannedResource]) -> str | None:
    albs = [r for r in by_region if r.type in LOAD_BALANCERS]
    if not albs:
        return None
    scheme = "internal" if albs[0].inputs.get("internal") else "internet-facing"
    # The load balancer component's CIDR ingress rules are its listener rules (node rules reference groups).
    allowed = sorted({r.inputs.get("cidrIpv4") or r.inputs.get("cidrIpv6") for r in by_region
                      if r.type == INGRESS_RULE and f"${LB_COMPONENT}$" in r.urn} - {None})
    return f"{scheme} from {', '.join(allowed) or 'nobody'}"


def reachability_lines(resources: Iterable[PlannedResource]) -> list[str]:
    """One line per region: `REGION: VPC CIDR; Kubernetes API: ...; load balancer: ...`."""
    resources = list(resources)
    lines = []
    for cluster in sorted((r for r in resources if r.type == EKS_CLUSTER), key=lambda r: r.region or ""):
        by_region = [r for r in resources if r.region == cluster.region]
        vpcs = ", ".join(r.inputs.get("cidrBlock", "?") for r in by_region if r.type == VPC) or "?"
        line = f"{cluster.region}: VPC {vpcs}; Kubernetes API: {_api_line(cluster, by_region)}"
        lb = _load_balancer_line(by_region)
        if lb:
            line += f"; load balancer: {lb}"
        lines.append(line)
    return lines
