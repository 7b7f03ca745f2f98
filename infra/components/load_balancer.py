"""The regional entry point: an ALB (internet-facing in the public subnets, or `endpoint.loadBalancerScheme:
internal` in the private ones, behind Global Accelerator) in front of the vLLM pods.

Traffic: client -> ALB listener (443 with the region's ACM certificate, `certificate.py`, when
`endpoint.hostname` is set, else 80) -> target group of *IP targets*: the vLLM pods' own addresses
on the container port. The AWS Load Balancer Controller (`load_balancer_controller.py`) keeps the group's members equal to
the vLLM Service's endpoints through the chart's TargetGroupBinding, so a terminating pod is
deregistered when it starts its pre-stop sleep, before vLLM stops listening, and a new pod is ready
only once its target is healthy (readiness gate). The ALB, listeners and target group stay
Pulumi's. Like pulumi-awsx's ApplicationLoadBalancer this component holds only the load balancer
(security group, ALB, target group, listeners, rules): the certificate comes in as an ARN
(`certificate.py`), the CloudWatch alarms on it are `alarms.py`'s, and the regional stack's Route 53
alias to it is `RegionalDeployment`'s.

Only `/v1/*` reaches vLLM (and, with a hostname, only for that Host header): vLLM's API key guards
the /v1 routes alone, while /invocations, /pooling, /score, /tokenize, /metrics ... answer without
it (docs.vllm.ai "Security", read 2026-11-24). Everything else gets a fixed 404 from the ALB. The
target group's /health check goes from the ALB to the pod directly and is not a listener route.

Security groups: the pods' addresses sit on the nodes' network interfaces, which carry the EKS
cluster security group; Pulumi (not the controller's TargetGroupBinding `networking` block) opens
that group to the ALB's group on the container port only, so the rule is planned, priced and tested
with the rest and does not depend on the controller running.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.chart_values import termination_grace_seconds
from infra.components.context import RegionContext
from infra.conventions import TARGET_GROUP_PROTOCOL, TARGET_TYPE
from infra.spec import StackSpec

# The component's type token (RegionalDeployment names it as the former parent of the certificate and alarms).
COMPONENT_TYPE = "tradeoff-infra:edge:LoadBalancer"
HTTP_PORT = 80
HTTPS_PORT = 443
# AWS's recommended ALB policy (TLS 1.3 + 1.2 only): ELB user guide "Security policies for your ALB", read 2026-11-24.
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
HEALTH_CHECK_PATH = "/health"
# The only request paths forwarded to vLLM: its OpenAI API, the routes its API key protects.
PUBLIC_PATH_PATTERNS = ["/v1/*"]
FORWARD_RULE_PRIORITY = 100
# vLLM answers /health 200 once the engine is up; 2 x 15 s moves a target in or out within 30 s.
HEALTH_CHECK = {"interval": 15, "timeout": 5, "healthy_threshold": 2, "unhealthy_threshold": 2, "matcher": "200"}


def listener_ports(spec: StackSpec) -> list[int]:
    """Ports the ALB listens on: 80 only without a hostname; 80 (redirect) and 443 with one."""
    return [HTTP_PORT, HTTPS_PORT] if spec.endpoint.hostname else [HTTP_PORT]


def ingress_rules(spec: StackSpec) -> list[dict[str, Any]]:
    """ALB security-group ingress: each listener port from each allowed CIDR, nothing else."""
    rules = []
    for port in listener_ports(spec):
        for cidr in spec.endpoint.allowed_cidrs:
            family = "cidr_ipv6" if ipaddress.ip_network(cidr).version == 6 else "cidr_ipv4"
            rules.append({"port": port, family: cidr})
    return rules


def forward_conditions(spec: StackSpec, alb_dns_name: pulumi.Input[str] | None = None) -> list[dict[str, Any]]:
    """Listener-rule conditions (all must match) under which a request is forwarded to vLLM.

    The Host header must be the stack's hostname, or in a regional stack without one the ALB's own
    DNS name: a crafted Host makes Starlette < 1.0.1 (CVE-2026-48710, in the vLLM images we pin)
    see another path than the router, skipping vLLM's API-key check. A global stack without a
    hostname cannot name its accelerator here (it is created after the ALBs); `validate` warns.
    """
    conditions: list[dict[str, Any]] = [{"path_pattern": {"values": list(PUBLIC_PATH_PATTERNS)}}]
    if spec.endpoint.hostname:
        conditions.append({"host_header": {"values": [spec.endpoint.hostname]}})
    elif spec.endpoint.mode == "regional" and alb_dns_name is not None:
        conditions.append({"host_header": {"values": [alb_dns_name]}})
    return conditions


def deletion_protected(stack: str) -> bool:
    """Deletion protection everywhere except stacks named dev*, which are torn down routinely."""
    return not stack.startswith("dev")


def _condition_args(condition: dict[str, Any]) -> aws.lb.ListenerRuleConditionArgs:
    if "host_header" in condition:
        return aws.lb.ListenerRuleConditionArgs(
            host_header=aws.lb.ListenerRuleConditionHostHeaderArgs(**condition["host_header"]))
    return aws.lb.ListenerRuleConditionArgs(
        path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(**condition["path_pattern"]))


@dataclass
class LoadBalancerArgs:
    ctx: RegionContext
    """The region's spec, providers and cluster outputs."""
    target_port: int
    """Port vLLM listens on in its pod (`infra.conventions.VLLM_CONTAINER_PORT`): the IP targets' port; with a
    `gateway`, the gateway's port (`infra.gateway_config.GATEWAY_PORT`): its pods are the targets then."""
    health_check_path: str = HEALTH_CHECK_PATH
    """Path the target group checks on each target: vLLM's /health, or the gateway's liveness endpoint."""
    certificate_arn: pulumi.Input[str] | None = None
    """The validated ACM certificate for `endpoint.hostname` (`Certificate.arn`), served on 443; required
    with a hostname, unused without one."""


class LoadBalancer(pulumi.ComponentResource):
    """ALB + its security group (and the rule opening the pods to it) + IP target group for the vLLM pods
    + listeners + the /v1 forward rule."""

    dns_name: pulumi.Output[str]
    arn: pulumi.Output[str]
    arn_suffix: pulumi.Output[str]
    zone_id: pulumi.Output[str]
    target_group_arn: pulumi.Output[str]
    target_group_arn_suffix: pulumi.Output[str]

    def __init__(self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(COMPONENT_TYPE, name, None, opts)
        ctx = args.ctx
        spec = ctx.spec
        endpoint = spec.endpoint
        if endpoint.hostname and args.certificate_arn is None:
            raise ValueError(f"{name}: endpoint.hostname is set, so LoadBalancerArgs.certificate_arn is required "
                             "(the HTTPS listener serves that certificate)")
        child = ctx.opts(self)

        alb_sg = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=ctx.vpc_id,
            description=f"{name}: vLLM load balancer listeners",
            tags={"Name": f"{name}-alb"},
            opts=child,
        )
        for rule in ingress_rules(spec):
            port = rule.pop("port")
            cidr = rule.get("cidr_ipv4") or rule.get("cidr_ipv6")
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-sg-in-{port}-{cidr.replace('/', '-').replace(':', '-')}",
                security_group_id=alb_sg.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                description=f"listener {port} from an allowed CIDR (endpoint.allowedCidrs)",
                **rule,
                opts=child,
            )
        # Pod IPs live on the nodes' interfaces (VPC CNI), which carry the cluster security group.
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-sg-out-pods",
            security_group_id=alb_sg.id,
            referenced_security_group_id=ctx.node_security_group_id,
            ip_protocol="tcp",
            from_port=args.target_port,
            to_port=args.target_port,
            description=("to the gateway pods' port (IP targets)" if spec.gateway
                         else "to the vLLM pods' container port (IP targets)"),
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-pods-in-alb",
            security_group_id=ctx.node_security_group_id,
            referenced_security_group_id=alb_sg.id,
            ip_protocol="tcp",
            from_port=args.target_port,
            to_port=args.target_port,
            description=("gateway port from the load balancer only" if spec.gateway
                         else "vLLM container port from the load balancer only"),
            opts=child,
        )

        internal = endpoint.load_balancer_scheme == "internal"
        alb = aws.lb.LoadBalancer(
            f"{name}-alb",
            load_balancer_type="application",
            # internal: no public addresses, reached through Global Accelerator or the connected network only.
            # Either scheme sits in the public (edge) subnets, which hold no pods: the vLLM NetworkPolicy admits
            # the ALB by those subnets' ranges (chart_values.load_balancer_source_cidrs); in the private subnets
            # its addresses would share the pods' ranges and the policy could not tell them apart.
            internal=internal,
            subnets=ctx.public_subnet_ids,
            security_groups=[alb_sg.id],
            idle_timeout=endpoint.idle_timeout_seconds,
            drop_invalid_header_fields=True,
            enable_deletion_protection=deletion_protected(pulumi.get_stack()),
            tags={"Name": f"{name}-alb"},
            opts=child,
        )
        # IP targets, registered and deregistered by the AWS Load Balancer Controller (TargetGroupBinding).
        target_group = aws.lb.TargetGroup(
            f"{name}-tg",
            port=args.target_port,
            protocol=TARGET_GROUP_PROTOCOL,
            target_type=TARGET_TYPE,
            ip_address_type="ipv4",
            vpc_id=ctx.vpc_id,
            # In-flight generations may run as long as the pod's termination grace period.
            deregistration_delay=termination_grace_seconds(spec),
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True, path=args.health_check_path, port="traffic-port", protocol="HTTP", **HEALTH_CHECK
            ),
            opts=child,
        )

        # Anything but the forward rule below is answered by the ALB itself: vLLM's other routes stay unreachable.
        not_found = [aws.lb.ListenerDefaultActionArgs(
            type="fixed-response",
            fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
                content_type="text/plain", message_body="Not Found", status_code="404"
            ),
        )]
        if endpoint.hostname:
            serving = aws.lb.Listener(
                f"{name}-https",
                load_balancer_arn=alb.arn,
                port=HTTPS_PORT,
                protocol="HTTPS",
                ssl_policy=TLS_POLICY,
                certificate_arn=args.certificate_arn,
                default_actions=not_found,
                opts=child,
            )
            http_action = [
                aws.lb.ListenerDefaultActionArgs(
                    type="redirect",
                    redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                        port=str(HTTPS_PORT), protocol="HTTPS", status_code="HTTP_301"
                    ),
                )
            ]
        else:
            http_action = not_found
        http = aws.lb.Listener(
            f"{name}-http", load_balancer_arn=alb.arn, port=HTTP_PORT, protocol="HTTP",
            default_actions=http_action, opts=child,
        )
        if not endpoint.hostname:
            serving = http
        aws.lb.ListenerRule(
            f"{name}-forward-v1",
            listener_arn=serving.arn,
            priority=FORWARD_RULE_PRIORITY,
            actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=target_group.arn)],
            conditions=[_condition_args(c) for c in forward_conditions(spec, alb.dns_name)],
            opts=child,
        )

        self.dns_name = alb.dns_name
        self.arn = alb.arn
        self.arn_suffix = alb.arn_suffix
        self.zone_id = alb.zone_id
        self.target_group_arn = target_group.arn
        self.target_group_arn_suffix = target_group.arn_suffix
        self.register_outputs({
            "dns_name": self.dns_name,
            "arn": self.arn,
            "arn_suffix": self.arn_suffix,
            "zone_id": self.zone_id,
            "target_group_arn": self.target_group_arn,
            "target_group_arn_suffix": self.target_group_arn_suffix,
        })
