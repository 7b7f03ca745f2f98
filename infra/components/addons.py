"""ClusterAddons: what the cluster runs once the system nodes exist.

CoreDNS and the EBS CSI driver (EKS managed add-ons; the driver's controller assumes its own IRSA
role), the default StorageClass (encrypted gp3, so every PVC, e.g. Prometheus's, is encrypted),
and the NVIDIA device plugin that advertises `nvidia.com/gpu` on GPU nodes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra.components.cluster import managed_addon
from infra.conventions import GPU_NODE_SELECTOR, GPU_TAINT
from infra.iam import irsa_trust_policy, managed_policy_arn_for

# Add-ons whose pods need a node to run on (an add-on without ready pods never becomes ACTIVE).
POST_NODE_ADDONS = ["coredns"]
EBS_CSI_ADDON = "aws-ebs-csi-driver"
EBS_CSI_NAMESPACE = "kube-system"
EBS_CSI_SERVICE_ACCOUNT = "ebs-csi-controller-sa"  # the name the EKS add-on creates
EBS_CSI_POLICY = "service-role/AmazonEBSCSIDriverPolicy"
DEFAULT_STORAGE_CLASS = "gp3-encrypted"

# NVIDIA device plugin chart: NVIDIA/k8s-device-plugin tag v0.20.0 (2026-08-19),
# deployments/helm/nvidia-device-plugin/Chart.yaml version "0.20.0", read 2026-11-24.
DEVICE_PLUGIN_CHART = {"chart": "nvidia-device-plugin", "version": "0.20.0", "repo": "https://nvidia.github.io/k8s-device-plugin"}
DEVICE_PLUGIN_NAMESPACE = "kube-system"


def device_plugin_values() -> dict[str, Any]:
    """Chart values: run only on our GPU nodes and tolerate their taint (chart keys of v0.20.0 values.yaml)."""
    key, _, effect = GPU_TAINT
    return {
        "nodeSelector": GPU_NODE_SELECTOR,
        "tolerations": [
            {"key": key, "operator": "Exists", "effect": effect},
            {"key": "CriticalAddonsOnly", "operator": "Exists"},
        ],
        "gfd": {"enabled": False},  # labels come from the node group; no feature discovery needed
        "nfd": {"enabled": False},
        "priorityClassName": "system-node-critical",
    }


def storage_class_parameters() -> dict[str, str]:
    """EBS CSI StorageClass parameters: gp3, encrypted (AWS managed EBS key unless one is given)."""
    return {"type": "gp3", "encrypted": "true", "csi.storage.k8s.io/fstype": "ext4"}


@dataclass
class ClusterAddonsArgs:
    cluster_name: pulumi.Input[str]
    """EKS cluster the add-ons go in."""
    oidc_provider_arn: pulumi.Input[str]
    """IAM OIDC provider of the cluster (IRSA trust)."""
    oidc_provider_url: pulumi.Input[str]
    """Issuer without `https://`."""
    k8s_provider: k8s.Provider
    """The region's Kubernetes provider."""
    tags: dict[str, str]
    """Tags for the AWS resources."""
    kubernetes_version: str
    """The cluster's Kubernetes version (`cluster.kubernetesVersion`): the managed add-ons' versions follow it."""


class ClusterAddons(pulumi.ComponentResource):
    ready: list[pulumi.Resource]
    """What a Helm release must wait for: DNS, storage and GPU advertising in place."""

    def __init__(self, name: str, args: ClusterAddonsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tradeoff-infra:cluster:ClusterAddons", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        on_k8s = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider)

        addons = [managed_addon(f"{name}-{addon}", args.cluster_name, addon, args.tags, child, args.kubernetes_version)
                  for addon in POST_NODE_ADDONS]

        ebs_role = aws.iam.Role(
            f"{name}-ebs-csi",
            assume_role_policy=pulumi.Output.all(args.oidc_provider_arn, args.oidc_provider_url).apply(
                lambda a: json.dumps(irsa_trust_policy(a[0], a[1], EBS_CSI_NAMESPACE, EBS_CSI_SERVICE_ACCOUNT))
            ),
            description="EBS CSI controller (IRSA: kube-system/ebs-csi-controller-sa only)",
            tags=args.tags,
            opts=child,
        )
        ebs_policy = aws.iam.RolePolicyAttachment(
            f"{name}-ebs-csi", role=ebs_role.name,
            policy_arn=ebs_role.arn.apply(lambda arn: managed_policy_arn_for(EBS_CSI_POLICY, arn)), opts=child,
        )
        addons.append(managed_addon(
            f"{name}-{EBS_CSI_ADDON}", args.cluster_name, EBS_CSI_ADDON, args.tags,
            pulumi.ResourceOptions(parent=self, depends_on=[ebs_policy]), args.kubernetes_version,
            service_account_role_arn=ebs_role.arn,
        ))

        storage_class = k8s.storage.v1.StorageClass(
            f"{name}-gp3",
            metadata={
                "name": DEFAULT_STORAGE_CLASS,
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            provisioner="ebs.csi.aws.com",
            parameters=storage_class_parameters(),
            reclaim_policy="Delete",
            volume_binding_mode="WaitForFirstConsumer",  # create the volume in the AZ of the pod's node
            allow_volume_expansion=True,
            opts=on_k8s,
        )

        device_plugin = k8s.helm.v3.Release(
            f"{name}-nvidia-device-plugin",
            name="nvidia-device-plugin",
            chart=DEVICE_PLUGIN_CHART["chart"],
            version=DEVICE_PLUGIN_CHART["version"],
            repository_opts={"repo": DEVICE_PLUGIN_CHART["repo"]},
            namespace=DEVICE_PLUGIN_NAMESPACE,
            values=device_plugin_values(),
            opts=on_k8s,
        )

        self.ready = [*addons, storage_class, device_plugin]
        self.register_outputs({"device_plugin_release": device_plugin.name})
