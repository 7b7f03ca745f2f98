"""Cluster: one region's EKS control plane and everything the nodes need before they can join.

Secrets are envelope-encrypted with a customer KMS key (rotation on), the API endpoint is private
plus an optional CIDR-limited public one, control-plane logs go to a log group whose retention we
own, access is managed through EKS access entries, and an IAM OIDC provider enables IRSA.
Add-ons that run without nodes (VPC CNI, kube-proxy, pod identity agent) are installed here;
those that need nodes (CoreDNS, EBS CSI) come with `ClusterAddons` after the system nodes exist.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra.iam import arn_partition, assume_role_policy, managed_policy_arn_for
from infra.spec import CLUSTER_ADMIN_POLICY, ClusterSpec

# Control-plane log types: every one EKS offers (the baseline needs api, audit, authenticator).
CONTROL_PLANE_LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
# Add-ons that work before any node exists. Every managed add-on gets the newest version EKS lists as
# compatible with the cluster's Kubernetes version (`addon_version`, see `managed_addon`): with it unset,
# EKS keeps the version an add-on was created with and a Kubernetes upgrade leaves the add-ons behind.
PRE_NODE_ADDONS = ["vpc-cni", "kube-proxy", "eks-pod-identity-agent"]
# Add-on configuration values (JSON, validated by EKS against `aws eks describe-addon-configuration`).
# VPC CNI: enforce Kubernetes NetworkPolicy (the vLLM chart's policy) with its eBPF node agent; the key and
# its string value are those of the EKS user guide "Restrict Pod network traffic with Kubernetes network
# policies" (cni-network-policy-configure, read 2026-11-30), VPC CNI v1.14+.
ADDON_CONFIGURATION = {"vpc-cni": {"enableNetworkPolicy": "true"}}
# KMS waits this long before deleting the key: the maximum, since losing it loses every secret.
KMS_DELETION_WINDOW_DAYS = 30


@dataclass
class ClusterArgs:
    cluster_name: str
    """Physical EKS cluster name (subnet tags and the log group name need it before the cluster exists)."""
    cluster: ClusterSpec
    """Version, public endpoint CIDRs, log retention (spec `cluster`)."""
    region: str
    """AWS region code, for the kubeconfig's `aws eks get-token`."""
    subnet_ids: list[pulumi.Input[str]]
    """Private subnets the control plane's network interfaces go in."""
    tags: dict[str, str]
    """Tags for every resource of the cluster."""
    aws_profile: str | None = None
    """The stack's `aws:profile`: `aws eks get-token` runs with it (else the default credentials)."""
    api_reachable_after: list[pulumi.Resource] = field(default_factory=list)
    """Resources that connect `cluster.privateAccessCidrs` to the VPC (`Network.connectivity`): the
    Kubernetes provider, and so every Kubernetes object and Helm release, waits for them."""


def kubeconfig(cluster_name: str, endpoint: str, certificate_authority: str, region: str,
               aws_profile: str | None = None) -> str:
    """A kubeconfig that authenticates with `aws eks get-token` (short-lived tokens, no stored secret),
    as the identity of `aws_profile` when given, the same one the stack's AWS providers use."""
    user = f"{cluster_name}-aws"
    env = [{"name": "AWS_PROFILE", "value": aws_profile}] if aws_profile else None
    return json.dumps({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": certificate_authority}}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": user}}],
        "current-context": cluster_name,
        "users": [{"name": user, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region, "--output", "json"],
            **({"env": env} if env else {}),
            "interactiveMode": "Never",
        }}}],
    })


def addon_version(addon: str, kubernetes_version: str, opts: pulumi.InvokeOptions) -> pulumi.Output[str]:
    """The newest version of `addon` that EKS lists as compatible with `kubernetes_version`
    (DescribeAddonVersions through `aws.eks.get_addon_version(most_recent=True)`): resolved on every
    `up`, so a `cluster.kubernetesVersion` bump moves every add-on with the control plane."""
    return aws.eks.get_addon_version_output(
        addon_name=addon, kubernetes_version=kubernetes_version, most_recent=True, opts=opts,
    ).version


def admin_access(cluster: ClusterSpec) -> list[tuple[str, str, str]]:
    """(resource-name suffix, principal ARN, access policy ARN) of each `cluster.adminPrincipalArns` entry:
    an EKS access entry with AmazonEKSClusterAdminPolicy over the whole cluster. The suffix is a digest of
    the ARN, so reordering the list replaces nothing; the policy ARN takes the principal's partition."""
    out = []
    for arn in cluster.admin_principal_arns:
        partition = arn_partition(arn)
        digest = hashlib.sha256(arn.encode()).hexdigest()[:8]
        out.append((f"admin-{digest}", arn, f"arn:{partition}:eks::aws:cluster-access-policy/{CLUSTER_ADMIN_POLICY}"))
    return out


def managed_addon(
    name: str,
    cluster_name: pulumi.Input[str],
    addon: str,
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
    kubernetes_version: str,
    service_account_role_arn: pulumi.Input[str] | None = None,
    configuration_values: dict | None = None,
) -> aws.eks.Addon:
    """An EKS managed add-on at the newest version for `kubernetes_version`, that takes over the
    self-managed copy EKS bootstraps and keeps later edits."""
    return aws.eks.Addon(
        name,
        cluster_name=cluster_name,
        addon_name=addon,
        addon_version=addon_version(addon, kubernetes_version, pulumi.InvokeOptions(parent=opts.parent)),
        service_account_role_arn=service_account_role_arn,
        configuration_values=json.dumps(configuration_values) if configuration_values else None,
        resolve_conflicts_on_create="OVERWRITE",
        resolve_conflicts_on_update="PRESERVE",
        tags=tags,
        opts=opts,
    )


class Cluster(pulumi.ComponentResource):
    cluster_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    """The EKS-created cluster security group; managed node groups attach it to every node."""
    oidc_provider_arn: pulumi.Output[str]
    oidc_provider_url: pulumi.Output[str]
    """Issuer without `https://`, as IAM conditions use it."""
    kubeconfig: pulumi.Output[str]
    k8s_provider: k8s.Provider
    addons: list[aws.eks.Addon]

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tradeoff-infra:cluster:Cluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        spec = args.cluster

        key = aws.kms.Key(
            f"{name}-secrets",
            description=f"Envelope encryption of Kubernetes secrets in EKS cluster {args.cluster_name}",
            enable_key_rotation=True,
            deletion_window_in_days=KMS_DELETION_WINDOW_DAYS,
            tags=args.tags,
            opts=child,
        )
        aws.kms.Alias(f"{name}-secrets", name=f"alias/{args.cluster_name}-secrets", target_key_id=key.key_id, opts=child)

        role = aws.iam.Role(
            f"{name}-control-plane",
            assume_role_policy=json.dumps(assume_role_policy("eks.amazonaws.com")),
            description=f"EKS control plane of {args.cluster_name}",
            tags=args.tags,
            opts=child,
        )
        policy = aws.iam.RolePolicyAttachment(
            f"{name}-control-plane",
            role=role.name,
            policy_arn=role.arn.apply(lambda arn: managed_policy_arn_for("AmazonEKSClusterPolicy", arn)),
            opts=child,
        )
        # Created before the cluster so EKS writes into a group whose retention we set (else: never expires).
        logs = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/eks/{args.cluster_name}/cluster",
            retention_in_days=spec.log_retention_days,
            tags=args.tags,
            opts=child,
        )

        eks = aws.eks.Cluster(
            f"{name}-eks",
            name=args.cluster_name,
            version=spec.kubernetes_version,
            role_arn=role.arn,
            vpc_config={
                "subnet_ids": args.subnet_ids,
                "endpoint_private_access": True,
                "endpoint_public_access": bool(spec.public_access_cidrs),
                # Without CIDRs the public endpoint is off; EKS would otherwise default to 0.0.0.0/0.
                "public_access_cidrs": spec.public_access_cidrs or None,
            },
            encryption_config={"provider": {"key_arn": key.arn}, "resources": ["secrets"]},
            enabled_cluster_log_types=CONTROL_PLANE_LOGS,
            # No hidden permanent admin for the creator unless the stack asks for it: who administers the
            # cluster is the access entries below (docs/operations.md, "Cluster access"). EKS sets this
            # only at creation: changing it replaces the cluster.
            access_config={"authentication_mode": "API",
                           "bootstrap_cluster_creator_admin_permissions": spec.bootstrap_cluster_creator_admin_permissions},
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy, logs]),
        )

        issuer = eks.identities.apply(lambda ids: ids[0].oidcs[0].issuer)
        # No thumbprint: IAM then fetches and trusts the issuer's CA itself (pulumi-aws 7 docs of thumbprint_lists).
        oidc = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc",
            url=issuer,
            client_id_lists=["sts.amazonaws.com"],
            tags=args.tags,
            opts=child,
        )

        # With the public endpoint off, only these in-network CIDRs (VPN, peered VPCs) reach the API server.
        cluster_sg = eks.vpc_config.apply(lambda c: c.cluster_security_group_id)
        for cidr in spec.private_access_cidrs:
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-api-from-{cidr.replace('/', '-').replace(':', '-')}",
                security_group_id=cluster_sg,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                cidr_ipv4=cidr if ipaddress.ip_network(cidr).version == 4 else None,
                cidr_ipv6=cidr if ipaddress.ip_network(cidr).version == 6 else None,
                description="Kubernetes API (private endpoint) from cluster.privateAccessCidrs",
                opts=child,
            )

        # cluster.adminPrincipalArns: cluster-admin through access entries, which the stack shows and manages.
        admins = []
        for suffix, principal, policy_arn in admin_access(spec):
            entry = aws.eks.AccessEntry(
                f"{name}-{suffix}",
                cluster_name=eks.name,
                principal_arn=principal,
                type="STANDARD",
                tags=args.tags,
                opts=child,
            )
            admins.append(aws.eks.AccessPolicyAssociation(
                f"{name}-{suffix}",
                cluster_name=eks.name,
                principal_arn=entry.principal_arn,
                policy_arn=policy_arn,
                access_scope={"type": "cluster"},
                opts=child,
            ))

        self.addons = [managed_addon(f"{name}-{addon}", eks.name, addon, args.tags, child, spec.kubernetes_version,
                                     configuration_values=ADDON_CONFIGURATION.get(addon)) for addon in PRE_NODE_ADDONS]

        self.cluster_name = eks.name
        self.endpoint = eks.endpoint
        self.security_group_id = cluster_sg
        self.oidc_provider_arn = oidc.arn
        self.oidc_provider_url = issuer.apply(lambda url: url.removeprefix("https://"))
        self.kubeconfig = pulumi.Output.secret(pulumi.Output.all(eks.name, eks.endpoint, eks.certificate_authority.data).apply(
            lambda a: kubeconfig(a[0], a[1], a[2], args.region, args.aws_profile)
        ))
        # `pulumi up` reaches the Kubernetes API as one of the admin principals, over a path that exists
        # (api_reachable_after: the Transit Gateway routes): every Kubernetes resource waits for both, and on
        # destroy the access goes last.
        self.k8s_provider = k8s.Provider(f"{name}-k8s", kubeconfig=self.kubeconfig, opts=pulumi.ResourceOptions(
            parent=self, depends_on=[*args.api_reachable_after, *admins]))
        self.register_outputs({
            "cluster_name": self.cluster_name,
            "endpoint": self.endpoint,
            "oidc_provider_arn": self.oidc_provider_arn,
            "kubeconfig": self.kubeconfig,
        })
