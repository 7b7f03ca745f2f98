"""Every shipped stack's program, run under recording mocks: what each region gets, and the outputs.

The security baseline (docs/architecture.md "Security baseline") has its own file, test_program_security.py.
"""

from __future__ import annotations

import ipaddress
import json

import pytest

from infra.components.addons import DEVICE_PLUGIN_CHART, device_plugin_values
from infra.components.gpu_pool import GPU_AMI_TYPE, gpu_node_labels
from infra.components.node_role import NODE_POLICIES
from infra.conventions import SYSTEM_LABELS
from infra.iam import managed_policy_arn
from infra.naming import cluster_name
from infra.program import region_prefix
from tests.conftest import STACK_NAMES

pytestmark = pytest.mark.parametrize("stack", STACK_NAMES)

VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
CLUSTER = "aws:eks/cluster:Cluster"
RELEASE = "kubernetes:helm.sh/v3:Release"


def _public(subnet) -> bool:
    return "kubernetes.io/role/elb" in subnet.inputs.get("tags", {})


def _in_region(inv, region, type_):
    return inv.of_type(type_, region=region.region)


def test_one_aws_provider_per_region_and_nothing_on_the_default_provider(inventory_of, stack):
    inv = inventory_of(stack)
    providers = inv.of_type("pulumi:providers:aws")
    regional = [p for p in providers if "RegionalDeployment" in p.urn]
    assert sorted(p.inputs["region"] for p in regional) == sorted(r.region for r in inv.spec.regions)
    for p in regional:
        tags = json.loads(p.inputs["defaultTags"])["tags"]
        assert tags == {"tradeoff-infra/stack": stack, "tradeoff-infra/region": p.inputs["region"], "managed-by": "pulumi"}
    for p in providers:
        assert json.loads(p.inputs["defaultTags"])["tags"]["tradeoff-infra/stack"] == stack, f"{p.urn}: untagged spend"
    for r in inv.custom():
        if r.type.startswith(("aws:", "kubernetes:")):
            assert r.provider, f"{r.urn} uses the default provider (its region/cluster would come from ambient config)"
            assert r.region, f"{r.urn} has no region"
        if r.type.startswith("kubernetes:"):
            provider = inv.by_urn(r.provider)
            assert provider.type == "pulumi:providers:kubernetes", f"{r.urn} is not on a cluster's provider"
            assert provider.region == r.region, f"{r.urn} in {r.region} uses the cluster provider of {provider.region}"


def test_vpc_subnets_and_zones(inventory_of, stack):
    inv = inventory_of(stack)
    zones = inv.spec.network.availability_zones
    for region in inv.spec.regions:
        (vpc,) = _in_region(inv, region, VPC)
        assert vpc.inputs["cidrBlock"] == region.vpc_cidr, vpc.urn
        assert vpc.inputs["enableDnsHostnames"] and vpc.inputs["enableDnsSupport"], vpc.urn
        subnets = _in_region(inv, region, SUBNET)
        assert len(subnets) == 2 * zones, f"{region.region}: {len(subnets)} subnets"
        public = [s for s in subnets if _public(s)]
        private = [s for s in subnets if not _public(s)]
        assert len(public) == len(private) == zones
        for group in (public, private):
            azs = sorted(s.inputs["availabilityZone"] for s in group)
            assert len(set(azs)) == zones and all(az.startswith(region.region) for az in azs), azs
        cluster = inv.of_type(CLUSTER, region=region.region)[0].inputs["name"]
        nets = [ipaddress.ip_network(s.inputs["cidrBlock"]) for s in subnets]
        for s, net in zip(subnets, nets):
            assert net.subnet_of(ipaddress.ip_network(region.vpc_cidr)), s.urn
            assert s.inputs["tags"][f"kubernetes.io/cluster/{cluster}"] == "shared", s.urn
            assert s.inputs.get("mapPublicIpOnLaunch") is False, s.urn
            assert s.inputs["vpcId"] == vpc.id, s.urn
        assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:]), "subnets overlap"
        for s in private:
            assert s.inputs["tags"]["kubernetes.io/role/internal-elb"] == "1", s.urn


def test_nat_gateways_routes_and_s3_endpoint(inventory_of, stack):
    inv = inventory_of(stack)
    zones = inv.spec.network.availability_zones
    expected_nats = zones if inv.spec.network.nat_gateways == "per-az" else 1
    for region in inv.spec.regions:
        nats = _in_region(inv, region, "aws:ec2/natGateway:NatGateway")
        eips = _in_region(inv, region, "aws:ec2/eip:Eip")
        assert len(nats) == len(eips) == expected_nats, region.region
        for nat in nats:
            assert _public(inv.by_id(nat.inputs["subnetId"])), f"{nat.urn} must sit in a public subnet"
            assert inv.by_id(nat.inputs["allocationId"]).type == "aws:ec2/eip:Eip", nat.urn
        tables = _in_region(inv, region, "aws:ec2/routeTable:RouteTable")
        private_tables = [t for t in tables if any("natGatewayId" in route for route in t.inputs["routes"])]
        public_tables = [t for t in tables if any("gatewayId" in route for route in t.inputs["routes"])]
        assert len(private_tables) == zones and len(public_tables) == 1, region.region
        (igw,) = _in_region(inv, region, "aws:ec2/internetGateway:InternetGateway")
        assert public_tables[0].inputs["routes"] == [{"cidrBlock": "0.0.0.0/0", "gatewayId": igw.id}]
        associations = _in_region(inv, region, "aws:ec2/routeTableAssociation:RouteTableAssociation")
        routed = {a.inputs["subnetId"]: a.inputs["routeTableId"] for a in associations}
        for subnet in _in_region(inv, region, SUBNET):
            table = inv.by_id(routed[subnet.id])
            expected = public_tables if _public(subnet) else private_tables
            assert table in expected, f"{subnet.urn} routes through {table.urn}"
        (endpoint,) = _in_region(inv, region, "aws:ec2/vpcEndpoint:VpcEndpoint")
        assert endpoint.inputs["vpcEndpointType"] == "Gateway", endpoint.urn
        assert endpoint.inputs["serviceName"] == f"com.amazonaws.{region.region}.s3", endpoint.urn
        assert sorted(endpoint.inputs["routeTableIds"]) == sorted(t.id for t in private_tables), endpoint.urn


def test_cluster_control_plane(inventory_of, stack):
    inv = inventory_of(stack)
    spec = inv.spec.cluster
    for region in inv.spec.regions:
        (cluster,) = _in_region(inv, region, CLUSTER)
        assert cluster.inputs["version"] == spec.kubernetes_version, cluster.urn
        assert cluster.inputs["name"] == cluster_name(stack, region_prefix(region.region)), cluster.urn
        vpc_config = cluster.inputs["vpcConfig"]
        private_ids = {s.id for s in _in_region(inv, region, SUBNET) if not _public(s)}
        assert set(vpc_config["subnetIds"]) == private_ids, cluster.urn
        assert cluster.inputs["accessConfig"] == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False}
        (log_group,) = _in_region(inv, region, "aws:cloudwatch/logGroup:LogGroup")
        assert log_group.inputs["name"] == f"/aws/eks/{cluster.inputs['name']}/cluster", log_group.urn
        assert log_group.inputs["retentionInDays"] == spec.log_retention_days, log_group.urn
        assert log_group.urn in cluster.dependencies, "the log group must exist before EKS creates its own"
        (oidc,) = _in_region(inv, region, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
        assert oidc.inputs["clientIdLists"] == ["sts.amazonaws.com"], oidc.urn
        assert oidc.inputs["url"] == cluster.outputs["identities"][0]["oidcs"][0]["issuer"], oidc.urn
        role = inv.by_urn(next(d for d in cluster.dependencies if ":iam/role:Role::" in d))
        assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "eks.amazonaws.com"}


def test_core_addons(inventory_of, stack):
    inv = inventory_of(stack)
    for region in inv.spec.regions:
        addons = {a.inputs["addonName"]: a for a in _in_region(inv, region, "aws:eks/addon:Addon")}
        assert {"vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver"} <= set(addons), region.region
        (system_ng,) = [ng for ng in _in_region(inv, region, NODE_GROUP) if ng.inputs["amiType"] != GPU_AMI_TYPE]
        for name in ("coredns", "aws-ebs-csi-driver"):
            assert system_ng.urn in addons[name].dependencies, f"{name} needs nodes to become ACTIVE"
        ebs_role = next(r for r in _in_region(inv, region, "aws:iam/role:Role")
                        if r.outputs["arn"] == addons["aws-ebs-csi-driver"].inputs["serviceAccountRoleArn"])
        condition = json.loads(ebs_role.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]["StringEquals"]
        assert "system:serviceaccount:kube-system:ebs-csi-controller-sa" in condition.values(), ebs_role.urn
        attached = [a.inputs["policyArn"] for a in _in_region(inv, region, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                    if a.inputs["role"] == ebs_role.outputs["name"]]
        assert attached == [managed_policy_arn("service-role/AmazonEBSCSIDriverPolicy", "aws")], ebs_role.urn
        (storage_class,) = _in_region(inv, region, "kubernetes:storage.k8s.io/v1:StorageClass")
        assert storage_class.inputs["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
        assert storage_class.inputs["parameters"]["type"] == "gp3", storage_class.urn
        assert storage_class.inputs["volumeBindingMode"] == "WaitForFirstConsumer", storage_class.urn


def test_system_node_group(inventory_of, stack):
    inv = inventory_of(stack)
    nodes = inv.spec.cluster.system_nodes
    for region in inv.spec.regions:
        (ng,) = [ng for ng in _in_region(inv, region, NODE_GROUP) if ng.inputs["amiType"] != GPU_AMI_TYPE]
        assert ng.inputs["amiType"] == "AL2023_x86_64_STANDARD", ng.urn
        assert ng.inputs["capacityType"] == "ON_DEMAND", ng.urn
        assert ng.inputs["instanceTypes"] == [nodes.instance_type], ng.urn
        assert ng.inputs["scalingConfig"] == {"minSize": nodes.nodes, "maxSize": nodes.nodes, "desiredSize": nodes.nodes}
        assert ng.inputs["labels"] == SYSTEM_LABELS and not ng.inputs.get("taints"), ng.urn
        role_name = next(r for r in _in_region(inv, region, "aws:iam/role:Role") if r.outputs["arn"] == ng.inputs["nodeRoleArn"]).outputs["name"]
        attached = {a.inputs["policyArn"] for a in _in_region(inv, region, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                    if a.inputs["role"] == role_name}
        assert attached == {managed_policy_arn(p, "aws") for p in NODE_POLICIES}, ng.urn


def test_gpu_node_groups(inventory_of, stack):
    inv = inventory_of(stack)
    for region in inv.spec.regions:
        groups = {ng.inputs["labels"]["tradeoff-infra.io/gpu-pool"]: ng
                  for ng in _in_region(inv, region, NODE_GROUP) if ng.inputs["amiType"] == GPU_AMI_TYPE}
        assert set(groups) == {p.name for p in region.gpu_pools}, region.region
        cluster_name = _in_region(inv, region, CLUSTER)[0].inputs["name"]
        for pool in region.gpu_pools:
            ng = groups[pool.name]
            assert ng.inputs["instanceTypes"] == [pool.instance_type], ng.urn
            assert ng.inputs["capacityType"] == {"on-demand": "ON_DEMAND", "spot": "SPOT"}[pool.capacity_type], ng.urn
            assert ng.inputs["scalingConfig"] == {"minSize": pool.min_nodes, "maxSize": pool.max_nodes,
                                                  "desiredSize": pool.initial_nodes}, ng.urn
            assert ng.inputs["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}], ng.urn
            assert ng.inputs["labels"] == gpu_node_labels(pool), ng.urn
            assert ng.inputs["updateConfig"] == {"maxUnavailable": 1}, ng.urn
            assert ng.inputs["tags"]["k8s.io/cluster-autoscaler/enabled"] == "true", ng.urn
            assert ng.inputs["tags"][f"k8s.io/cluster-autoscaler/{cluster_name}"] == "owned", ng.urn
            template = inv.by_id(ng.inputs["launchTemplate"]["id"])
            (root,) = template.inputs["blockDeviceMappings"]
            assert root["ebs"]["volumeSize"] == inv.spec.disk_size_gib(pool), template.urn
            # The startup budget assumes ~250 MB/s from disk: gp3's 125 MiB/s baseline is raised, within gp3's ratio.
            assert (root["ebs"]["throughput"], root["ebs"]["iops"]) == (500, 6000), template.urn
            assert root["ebs"]["throughput"] <= 0.25 * root["ebs"]["iops"], template.urn
            assert {t["resourceType"] for t in template.inputs["tagSpecifications"]} == {"instance", "volume"}


def test_autoscaler_node_templates_mirror_the_node_group_labels(inventory_of, stack):
    """cluster-autoscaler scales a pool up from zero only if the ASG tags promise the labels/taint pods ask for."""
    inv = inventory_of(stack)
    for region in inv.spec.regions:
        for ng in _in_region(inv, region, NODE_GROUP):
            if ng.inputs["amiType"] != GPU_AMI_TYPE:
                continue
            (asg,) = [g["name"] for r in ng.outputs["resources"] for g in r["autoscalingGroups"]]
            tags = {t.inputs["tag"]["key"]: t.inputs["tag"]["value"]
                    for t in _in_region(inv, region, "aws:autoscaling/tag:Tag") if t.inputs["autoscalingGroupName"] == asg}
            prefix = "k8s.io/cluster-autoscaler/node-template/"
            labels = {k.removeprefix(prefix + "label/"): v for k, v in tags.items() if k.startswith(prefix + "label/")}
            assert labels == ng.inputs["labels"], ng.urn
            assert tags[prefix + "taint/nvidia.com/gpu"] == "true:NoSchedule", ng.urn


def test_nvidia_device_plugin_release_is_pinned(inventory_of, stack):
    inv = inventory_of(stack)
    for region in inv.spec.regions:
        (release,) = [r for r in _in_region(inv, region, RELEASE) if r.inputs["chart"] == "nvidia-device-plugin"]
        assert release.inputs["version"] == DEVICE_PLUGIN_CHART["version"], release.urn
        assert release.inputs["version"].count(".") == 2 and release.inputs["version"][0].isdigit(), release.urn
        assert release.inputs["repositoryOpts"] == {"repo": "https://nvidia.github.io/k8s-device-plugin"}
        assert release.inputs["values"] == device_plugin_values(), release.urn
        assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in release.inputs["values"]["tolerations"]


def test_helm_releases_wait_for_the_system_nodes(inventory_of, stack):
    inv = inventory_of(stack)
    for region in inv.spec.regions:
        (system_ng,) = [ng for ng in _in_region(inv, region, NODE_GROUP) if ng.inputs["amiType"] != GPU_AMI_TYPE]
        for release in _in_region(inv, region, RELEASE):
            assert system_ng.urn in release.dependencies, f"{release.urn} would install before any node can run it"


def test_stack_outputs(inventory_of, stack):
    inv = inventory_of(stack)
    spec = inv.spec
    regions = [r.region for r in spec.regions]
    assert set(inv.outputs["endpoints"]) == set(regions)
    for region, url in inv.outputs["endpoints"].items():
        if spec.endpoint.hostname:
            # The ALB's certificate names the hostname: https://<alb dns> would fail TLS verification.
            assert url == f"https://{spec.endpoint.hostname}", url
        else:
            assert url.startswith("http://") and region in url, url
    assert inv.outputs["clusterNames"] == {r: inv.of_type(CLUSTER, region=r)[0].inputs["name"] for r in regions}
    albs = {r: inv.of_type("aws:lb/loadBalancer:LoadBalancer", region=r)[0].outputs["dnsName"] for r in regions}
    assert inv.outputs["loadBalancers"] == albs, "every region's own ALB is reachable past the global endpoint"
    assert inv.outputs["kubeconfigs"] == "[secret]"
    if spec.endpoint.hostname:
        assert inv.outputs["globalEndpoint"] == f"https://{spec.endpoint.hostname}"
    elif spec.endpoint.mode == "regional":
        assert inv.outputs["globalEndpoint"] == inv.outputs["endpoints"][regions[0]]
    else:
        assert inv.outputs["globalEndpoint"].endswith(".awsglobalaccelerator.com")
    accelerators = inv.of_type("aws:globalaccelerator/accelerator:Accelerator")
    assert len(accelerators) == (1 if spec.endpoint.mode == "global-accelerator" else 0)


def test_vllm_pods_schedule_only_on_the_gpu_pools(inventory_of, stack):
    """The chart (rendered by real helm) asks for exactly what the GPU node groups offer."""
    inv = inventory_of(stack)
    for region in inv.spec.regions:
        deployments = [d for d in _in_region(inv, region, "kubernetes:apps/v1:Deployment")
                       if d.inputs["metadata"].get("namespace") == "vllm"]
        assert len(deployments) == 1, f"{region.region}: {[d.urn for d in deployments]}"
        pod = deployments[0].inputs["spec"]["template"]["spec"]
        gpu_groups = [ng for ng in _in_region(inv, region, NODE_GROUP) if ng.inputs["amiType"] == GPU_AMI_TYPE]
        for ng in gpu_groups:
            assert pod["nodeSelector"].items() <= ng.inputs["labels"].items(), ng.urn
            for taint in ng.inputs["taints"]:
                assert any(t["key"] == taint["key"] and t.get("value", taint["value"]) == taint["value"]
                           and t["effect"] == "NoSchedule" for t in pod["tolerations"]), ng.urn
        pools = {ng.inputs["labels"]["tradeoff-infra.io/gpu-pool"] for ng in gpu_groups}
        terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        wanted = {v for term in terms for e in term["matchExpressions"] if e["key"] == "tradeoff-infra.io/gpu-pool" for v in e["values"]}
        assert wanted == pools, f"{region.region}: chart wants pools {wanted}, node groups are {pools}"
        system_ng = next(ng for ng in _in_region(inv, region, NODE_GROUP) if ng.inputs["amiType"] != GPU_AMI_TYPE)
        assert not pod["nodeSelector"].items() <= system_ng.inputs["labels"].items(), "vLLM must not fit system nodes"


def test_zones_are_chosen_among_those_offering_every_node_instance_type(inventory_of, stack):
    inv = inventory_of(stack)
    lookups = [args for token, args in inv.invokes if token == "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings"]
    assert len(lookups) == len(inv.spec.regions)
    asked = [set(next(f["values"] for f in args["filters"] if f["name"] == "instance-type")) for args in lookups]
    for region in inv.spec.regions:
        needed = {p.instance_type for p in region.gpu_pools} | {inv.spec.cluster.system_nodes.instance_type}
        assert needed in asked, f"{region.region}: zones not checked for {needed}"


def test_chart_custom_resources_wait_for_the_releases_that_install_their_crds(inventory_of, stack):
    inv = inventory_of(stack)
    crd_owner = {"monitoring.coreos.com": "kube-prometheus-stack", "keda.sh": "keda"}
    for region in inv.spec.regions:
        releases = {r.inputs["chart"]: r.urn for r in _in_region(inv, region, RELEASE)}
        custom = [r for r in inv.resources if r.region == region.region and r.type.startswith("kubernetes:")
                  and r.type.split(":")[1].split("/")[0] in crd_owner]
        assert custom, f"{region.region}: the chart rendered no ServiceMonitor/PrometheusRule/ScaledObject"
        for r in custom:
            owner = releases[crd_owner[r.type.split(":")[1].split("/")[0]]]
            assert owner in r.dependencies, f"{r.urn} may be created before its CRD ({owner})"


def test_chart_objects_wait_for_the_namespace_and_secrets(inventory_of, stack):
    """Chart objects do not inherit the Chart's depends_on: vllm.py adds the namespace and the API-key secret."""
    inv = inventory_of(stack)
    for region in inv.spec.regions:
        vllm = [r for r in inv.resources if r.region == region.region and r.type.startswith("kubernetes:")
                and (r.inputs.get("metadata") or {}).get("namespace") == "vllm"]
        namespace = next(r.urn for r in inv.resources if r.region == region.region
                         and r.type == "kubernetes:core/v1:Namespace" and r.name.endswith("-vllm-namespace"))
        secret = next(r.urn for r in vllm if r.name.endswith("-vllm-api-key"))
        chart_objects = [r for r in vllm if r.type.split(":")[-1] in {"Deployment", "Service", "ScaledObject"}]
        assert chart_objects, region.region
        for r in chart_objects:
            assert namespace in r.dependencies and secret in r.dependencies, f"{r.urn}: {r.dependencies}"
