"""An IAM role for one Kubernetes service account (IRSA), with one inline policy."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from infra.components.context import RegionContext
from infra.iam import irsa_trust_policy


def irsa_role(
    name: str,
    ctx: RegionContext,
    *,
    namespace: str,
    service_account: str,
    policy: pulumi.Input[str],
    description: str,
    parent: pulumi.Resource,
) -> aws.iam.Role:
    """An IAM role that exactly one Kubernetes service account may assume, with one inline policy."""
    trust = pulumi.Output.all(ctx.oidc_provider_arn, ctx.oidc_provider_url).apply(
        lambda a: json.dumps(irsa_trust_policy(a[0], a[1], namespace, service_account))
    )
    role = aws.iam.Role(name, assume_role_policy=trust, description=description, opts=ctx.opts(parent))
    aws.iam.RolePolicy(f"{name}-policy", role=role.id, policy=policy, opts=ctx.opts(parent))
    return role
