"""Alarms: the CloudWatch alarms on a region's ALB, notifying the region's alarm topic.

Fed by the load balancer's and target group's ARN suffixes (`LoadBalancer.arn_suffix`,
`.target_group_arn_suffix`, the metrics' dimensions) and the topic `Monitoring` owns
(`Monitoring.alarm_topic_arn`). What each alarm means and what to do: docs/operations.md "CloudWatch alarms".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.components.options import moved_from

# Alarm thresholds: no healthy target for 3 minutes; more than 5% of requests failing in 3 of 5 minutes.
NO_HEALTHY_HOST_MINUTES = 3
ERROR_RATE_PERCENT = 5
ERROR_RATE_WINDOW_MINUTES = 5
ERROR_RATE_BREACHING_MINUTES = 3


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


@dataclass
class AlarmsArgs:
    load_balancer_name: str
    """The LoadBalancer component's name: the alarms are named `<it>-no-healthy-targets`, `<it>-error-rate`."""
    region: str
    """AWS region, named in the alarm descriptions."""
    load_balancer_arn_suffix: pulumi.Input[str]
    """The ALB's ARN suffix (`app/<name>/<id>`), CloudWatch's `LoadBalancer` dimension."""
    target_group_arn_suffix: pulumi.Input[str]
    """The vLLM target group's ARN suffix, CloudWatch's `TargetGroup` dimension."""
    expect_healthy_targets: bool
    """False when the region may scale vLLM to zero replicas: an empty target group is then the normal
    idle state, not an outage, and there is no no-healthy-target alarm."""
    topic_arn: pulumi.Input[str] | None = None
    """SNS topic the alarms notify (`Monitoring.alarm_topic_arn`); None creates them without actions."""
    former_parent: pulumi.Input[str] | pulumi.Resource | None = None
    """The component the alarms were created under before (the region's LoadBalancer): they carry an
    alias to it, so `pulumi up` on an existing stack moves them here instead of replacing them."""


class Alarms(pulumi.ComponentResource):
    """No healthy vLLM target (unless scale-to-zero) and 5xx error rate, on one ALB."""

    def __init__(self, name: str, args: AlarmsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tradeoff-infra:edge:Alarms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, aliases=moved_from(args.former_parent))
        actions = [args.topic_arn] if args.topic_arn is not None else []
        prefix = args.load_balancer_name
        if args.expect_healthy_targets:
            aws.cloudwatch.MetricAlarm(
                f"{prefix}-no-healthy-targets",
                alarm_description=(
                    f"{args.region}: no healthy vLLM target behind the load balancer for "
                    f"{NO_HEALTHY_HOST_MINUTES} minutes (see docs/operations.md)"
                ),
                namespace="AWS/ApplicationELB",
                metric_name="HealthyHostCount",
                dimensions={"LoadBalancer": args.load_balancer_arn_suffix, "TargetGroup": args.target_group_arn_suffix},
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
            f"{prefix}-error-rate",
            alarm_description=(
                f"{args.region}: more than {ERROR_RATE_PERCENT}% of requests answered 5xx in "
                f"{ERROR_RATE_BREACHING_MINUTES} of {ERROR_RATE_WINDOW_MINUTES} minutes (see docs/operations.md)"
            ),
            metric_queries=[_metric_query_args(q) for q in error_rate_queries(args.load_balancer_arn_suffix)],
            evaluation_periods=ERROR_RATE_WINDOW_MINUTES,
            datapoints_to_alarm=ERROR_RATE_BREACHING_MINUTES,
            threshold=ERROR_RATE_PERCENT,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=actions,
            ok_actions=actions,
            opts=child,
        )
        self.register_outputs({})
