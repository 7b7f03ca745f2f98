"""The regional entry point: an ALB (internet-facing in the public subnets, or `endpoint.loadBalancerScheme:
internal` in the private ones, behind Global Accelerator) in front of the vLLM pods.

Traffic: client -> ALB listener (443 with an ACM certificate when `endpoint.hostname` is set,
else 80) -> target group of *IP targets*: the vLLM pods' own addresses on the container port. The
AWS Load Balancer Controller (`load_balancer_controller.py`) keeps the group's members equal to
the vLLM Service's endpoints through the chart's TargetGroupBinding, so a terminating pod is
deregistered when it starts its pre-stop sleep, before vLLM stops listening, and a new pod is ready
only once its target is healthy (readiness gate). The ALB, listeners and target group stay
Pulumi's. The CloudWatch alarms on this ALB live here, notifying the region's alarm topic.

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
import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.chart_values import termination_grace_seconds
from infra.components.context import RegionContext
from infra.components.load_balancer_controller import TARGET_GROUP_PROTOCOL, TARGET_TYPE
from infra.spec import StackSpec

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
# Alarm thresholds: no healthy target for 3 minutes; more than 5% of requests failing in 3 of 5 minutes.
NO_HEALTHY_HOST_MINUTES = 3
ERROR_RATE_PERCENT = 5
ERROR_RATE_WINDOW_MINUTES = 5
ERROR_RATE_BREACHING_MINUTES = 3


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


def error_rate_queries(load_balancer_arn_suffix: pulumi.Input[str]) -> list[dict[str, Any]]:
    """Metric math for the share of requests answered 5xx (by the ALB itself or by vLLM), in percent."""

    def metric(query_id: str, metric_name: str) -> dict[str, Any]:
        return {
            "id": query_id,
            "return_data": False,
            "metric": {
                "namespace": "AWS/ApplicationELB",
                "metric_name": metric_name,
                "dimensions": {"LoadBalancer": load_balancer_arn_suffix},
                "period": 60,
                "stat": "Sum",
            },
        }

    return [
        metric("requests", "RequestCount"),
        metric("elb5xx", "HTTPCode_ELB_5XX_Count"),
        metric("target5xx", "HTTPCode_Target_5XX_Count"),
        {
            "id": "errorRate",
            "label": "5xx responses (% of requests)",
            "expression": "IF(requests > 0, 100 * (FILL(elb5xx, 0) + FILL(target5xx, 0)) / requests, 0)",
            "return_data": True,
        },
    ]


def _metric_query_args(query: dict[str, Any]) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    if "metric" not in query:
        return aws.cloudwatch.MetricAlarmMetricQueryArgs(**query)
    metric = aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(**query["metric"])
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(**{**query, "metric": metric})


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
    """Port vLLM listens on in its pod (`infra.chart_values.VLLM_CONTAINER_PORT`): the IP targets' port."""
    alarm_topic_arn: pulumi.Input[str] | None = None
    """SNS topic the ALB alarms notify (`Monitoring.alarm_topic_arn`); None creates the alarms without actions."""


class LoadBalancer(pulumi.ComponentResource):
    """ALB + security groups + IP target group for the vLLM pods + TLS + the ALB's CloudWatch alarms."""

    dns_name: pulumi.Output[str]
    arn: pulumi.Output[str]
    arn_suffix: pulumi.Output[str]
    zone_id: pulumi.Output[str]
    target_group_arn: pulumi.Output[str]
    target_group_arn_suffix: pulumi.Output[str]

    def __init__(self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tradeoff-infra:edge:LoadBalancer", name, None, opts)
        ctx = args.ctx
        spec = ctx.spec
        endpoint = spec.endpoint
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
            description="to the vLLM pods' container port (IP targets)",
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-pods-in-alb",
            security_group_id=ctx.node_security_group_id,
            referenced_security_group_id=alb_sg.id,
            ip_protocol="tcp",
            from_port=args.target_port,
            to_port=args.target_port,
            description="vLLM container port from the load balancer only",
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
                enabled=True, path=HEALTH_CHECK_PATH, port="traffic-port", protocol="HTTP", **HEALTH_CHECK
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
            certificate = self._certificate(name, ctx)
            serving = aws.lb.Listener(
                f"{name}-https",
                load_balancer_arn=alb.arn,
                port=HTTPS_PORT,
                protocol="HTTPS",
                ssl_policy=TLS_POLICY,
                certificate_arn=certificate,
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

        if endpoint.hostname and endpoint.mode == "regional":
            # With one region the ALB is the endpoint; a global stack points the name at the accelerator.
            aws.route53.Record(
                f"{name}-dns",
                zone_id=endpoint.hosted_zone_id,
                name=endpoint.hostname,
                type="A",
                aliases=[aws.route53.RecordAliasArgs(name=alb.dns_name, zone_id=alb.zone_id, evaluate_target_health=True)],
                opts=child,
            )

        self._alarms(name, ctx, alb, target_group, args.alarm_topic_arn)

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

    def _certificate(self, name: str, ctx: RegionContext) -> pulumi.Output[str]:
        """ACM certificate for endpoint.hostname, DNS-validated in endpoint.hostedZoneId; returns the validated ARN.

        ACM asks for the same validation CNAME for one name in every region, so the first region of
        the stack owns that record; the other regions' validations wait for it.
        """
        endpoint = ctx.spec.endpoint
        child = ctx.opts(self)
        certificate = aws.acm.Certificate(
            f"{name}-cert", domain_name=endpoint.hostname, validation_method="DNS", opts=child
        )
        option = certificate.domain_validation_options.apply(lambda options: options[0])
        fqdn = option.apply(lambda o: o.resource_record_name)
        if ctx.region.region == ctx.spec.regions[0].region:
            aws.route53.Record(
                f"{name}-cert-validation",
                zone_id=endpoint.hosted_zone_id,
                name=fqdn,
                type=option.apply(lambda o: o.resource_record_type),
                records=[option.apply(lambda o: o.resource_record_value)],
                ttl=300,
                allow_overwrite=True,
                opts=child,
            )
        validation = aws.acm.CertificateValidation(
            f"{name}-cert-validation",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[fqdn],
            opts=child,
        )
        return validation.certificate_arn

    def _alarms(self, name, ctx, alb, target_group, topic_arn) -> None:
        child = ctx.opts(self)
        actions = [topic_arn] if topic_arn is not None else []
        low, _ = ctx.spec.replicas_for(ctx.region)
        if low > 0:
            # With scale-to-zero an empty target group is the normal idle state, not an outage.
            aws.cloudwatch.MetricAlarm(
                f"{name}-no-healthy-targets",
                alarm_description=(
                    f"{ctx.region.region}: no healthy vLLM target behind the load balancer for "
                    f"{NO_HEALTHY_HOST_MINUTES} minutes (see docs/operations.md)"
                ),
                namespace="AWS/ApplicationELB",
                metric_name="HealthyHostCount",
                dimensions={"LoadBalancer": alb.arn_suffix, "TargetGroup": target_group.arn_suffix},
                statistic="Minimum",
                period=60,
                evaluation_periods=NO_HEALTHY_HOST_MINUTES,
                threshold=1,
                comparison_operator="LessThanThreshold",
                # No datapoints means the metric stopped: treat it as no healthy host.
                treat_missing_data="breaching",
                alarm_actions=actions,
                ok_actions=actions,
                opts=child,
            )
        aws.cloudwatch.MetricAlarm(
            f"{name}-error-rate",
            alarm_description=(
                f"{ctx.region.region}: more than {ERROR_RATE_PERCENT}% of requests answered 5xx in "
                f"{ERROR_RATE_BREACHING_MINUTES} of {ERROR_RATE_WINDOW_MINUTES} minutes (see docs/operations.md)"
            ),
            metric_queries=[_metric_query_args(q) for q in error_rate_queries(alb.arn_suffix)],
            evaluation_periods=ERROR_RATE_WINDOW_MINUTES,
            datapoints_to_alarm=ERROR_RATE_BREACHING_MINUTES,
            threshold=ERROR_RATE_PERCENT,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=actions,
            ok_actions=actions,
            opts=child,
        )
