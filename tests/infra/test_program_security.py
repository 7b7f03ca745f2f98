"""The security baseline (docs/architecture.md "Security baseline"), asserted on every shipped stack's recorded resources.

Each test names the rule it enforces; a relaxation must come from an explicit spec key.
"""

from __future__ import annotations

import ipaddress
import json

import pytest

from tests.conftest import STACK_NAMES

pytestmark = pytest.mark.parametrize("stack", STACK_NAMES)

PUBLIC_PORTS = {80, 443}  # the load balancer's listener ports


def _public_subnet_ids(inv) -> set[str]:
    return {s.id for s in inv.of_type("aws:ec2/subnet:Subnet") if "kubernetes.io/role/elb" in s.inputs["tags"]}


def _statements(document: str | dict) -> list[dict]:
    doc = json.loads(document) if isinstance(document, str) else document
    statements = doc["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_nodes_only_in_private_subnets_without_public_ips(inventory_of, stack):
    inv = inventory_of(stack)
    public = _public_subnet_ids(inv)
    assert public, "the recorded VPCs have no public subnets to compare against"
    for ng in inv.of_type("aws:eks/nodeGroup:NodeGroup"):
        assert ng.inputs["subnetIds"] and not set(ng.inputs["subnetIds"]) & public, f"{ng.urn} has nodes in a public subnet"
    for subnet in inv.of_type("aws:ec2/subnet:Subnet"):
        assert subnet.inputs.get("mapPublicIpOnLaunch") is not True, subnet.urn
    for template in inv.of_type("aws:ec2/launchTemplate:LaunchTemplate"):
        for nic in template.inputs.get("networkInterfaces", []):
            assert nic.get("associatePublicIpAddress") in (None, "false", False), template.urn


def test_imdsv2_required_on_every_launch_template(inventory_of, stack):
    inv = inventory_of(stack)
    templates = inv.of_type("aws:ec2/launchTemplate:LaunchTemplate")
    assert len(templates) == len(inv.of_type("aws:eks/nodeGroup:NodeGroup")), "every node group has its own launch template"
    for template in templates:
        metadata = template.inputs["metadataOptions"]
        assert metadata["httpTokens"] == "required", f"{template.urn} allows IMDSv1"
        assert metadata["httpPutResponseHopLimit"] == inv.spec.cluster.imds_hop_limit, template.urn
    for ng in inv.of_type("aws:eks/nodeGroup:NodeGroup"):
        assert inv.by_id(ng.inputs["launchTemplate"]["id"]) in templates, f"{ng.urn} launches without our template"


def test_ebs_volumes_encrypted(inventory_of, stack):
    inv = inventory_of(stack)
    for template in inv.of_type("aws:ec2/launchTemplate:LaunchTemplate"):
        mappings = template.inputs["blockDeviceMappings"]
        assert mappings, template.urn
        for mapping in mappings:
            assert mapping["ebs"]["encrypted"] == "true", f"{template.urn} {mapping['deviceName']} is not encrypted"
            assert mapping["ebs"]["volumeType"] == "gp3", template.urn
    classes = inv.of_type("kubernetes:storage.k8s.io/v1:StorageClass")
    defaults = [c for c in classes if c.inputs["metadata"].get("annotations", {}).get("storageclass.kubernetes.io/is-default-class") == "true"]
    assert len(defaults) == len(inv.spec.regions), "one default StorageClass per cluster"
    for storage_class in classes:
        assert storage_class.inputs["parameters"]["encrypted"] == "true", storage_class.urn
    for volume in inv.of_type("aws:ebs/volume:Volume"):
        assert volume.inputs.get("encrypted") is True, volume.urn


def test_s3_buckets_encrypted_and_not_public(inventory_of, stack):
    inv = inventory_of(stack)
    for bucket in inv.of_type("aws:s3/bucket:Bucket") + inv.of_type("aws:s3/bucketV2:BucketV2"):
        blocks = [b for b in inv.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock") if b.inputs["bucket"] in (bucket.id, bucket.outputs.get("bucket"))]
        assert blocks and all(blocks[0].inputs.get(k) for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")), bucket.urn


def test_secrets_encrypted_with_a_rotating_customer_key(inventory_of, stack):
    inv = inventory_of(stack)
    keys = {k.outputs["arn"]: k for k in inv.of_type("aws:kms/key:Key")}
    for cluster in inv.of_type("aws:eks/cluster:Cluster"):
        encryption = cluster.inputs["encryptionConfig"]
        assert encryption["resources"] == ["secrets"], cluster.urn
        key = keys.get(encryption["provider"]["keyArn"])
        assert key is not None, f"{cluster.urn} encrypts with a key this stack does not manage"
        assert key.region == cluster.region, cluster.urn
        assert key.inputs["enableKeyRotation"] is True, key.urn
        assert key.inputs["deletionWindowInDays"] >= 7, key.urn
    for key in keys.values():
        assert key.inputs.get("enableKeyRotation") is True, key.urn


def test_api_endpoint_private_and_public_only_for_configured_cidrs(inventory_of, stack):
    inv = inventory_of(stack)
    cidrs = inv.spec.cluster.public_access_cidrs
    for cluster in inv.of_type("aws:eks/cluster:Cluster"):
        vpc = cluster.inputs["vpcConfig"]
        assert vpc["endpointPrivateAccess"] is True, cluster.urn
        assert vpc["endpointPublicAccess"] is bool(cidrs), cluster.urn
        if cidrs:
            assert vpc["publicAccessCidrs"] == cidrs, cluster.urn
        else:
            assert "publicAccessCidrs" not in vpc, cluster.urn
        relaxed = any(ipaddress.ip_network(c).prefixlen == 0 for c in cidrs)
        assert relaxed or "0.0.0.0/0" not in vpc.get("publicAccessCidrs", []), cluster.urn


def test_private_api_endpoint_reachable_from_private_access_cidrs(inventory_of, stack):
    """A stack without a public endpoint must let `pulumi up` reach the private one (443 on the cluster SG)."""
    inv = inventory_of(stack)
    cidrs = inv.spec.cluster.private_access_cidrs
    assert cidrs or inv.spec.cluster.public_access_cidrs, f"{stack}: nothing can reach the Kubernetes API"
    for cluster in inv.of_type("aws:eks/cluster:Cluster"):
        region = cluster.region
        rules = [r for r in inv.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", region)
                 if "-api-from-" in r.name]
        assert sorted(r.inputs.get("cidrIpv4") or r.inputs.get("cidrIpv6") for r in rules) == sorted(cidrs), cluster.urn
        for rule in rules:
            assert (rule.inputs["fromPort"], rule.inputs["toPort"], rule.inputs["ipProtocol"]) == (443, 443, "tcp"), rule.urn
            assert rule.inputs["securityGroupId"], f"{rule.urn}: must target the EKS cluster security group"
            assert ipaddress.ip_network(rule.inputs.get("cidrIpv4") or rule.inputs["cidrIpv6"]).prefixlen > 0, rule.urn


def test_control_plane_logs(inventory_of, stack):
    inv = inventory_of(stack)
    for cluster in inv.of_type("aws:eks/cluster:Cluster"):
        assert {"api", "audit", "authenticator"} <= set(cluster.inputs["enabledClusterLogTypes"]), cluster.urn


def _ingress(inv):
    """(resource, from, to, cidr) of every ingress rule, in any of the three ways AWS resources write one."""
    for sg in inv.of_type("aws:ec2/securityGroup:SecurityGroup"):
        for rule in sg.inputs.get("ingress", []):
            for cidr in rule.get("cidrBlocks", []) + rule.get("ipv6CidrBlocks", []):
                yield sg, rule.get("fromPort"), rule.get("toPort"), cidr
    for rule in inv.of_type("aws:ec2/securityGroupRule:SecurityGroupRule"):
        if rule.inputs["type"] == "ingress":
            for cidr in rule.inputs.get("cidrBlocks", []) + rule.inputs.get("ipv6CidrBlocks", []):
                yield rule, rule.inputs.get("fromPort"), rule.inputs.get("toPort"), cidr
    for rule in inv.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"):
        for cidr in (rule.inputs.get("cidrIpv4"), rule.inputs.get("cidrIpv6")):
            if cidr:
                yield rule, rule.inputs.get("fromPort"), rule.inputs.get("toPort"), cidr


def test_no_internet_ingress_except_listener_ports(inventory_of, stack):
    inv = inventory_of(stack)
    for resource, low, high, cidr in _ingress(inv):
        if ipaddress.ip_network(cidr).prefixlen == 0:
            ports = set(range(int(low), int(high) + 1)) if low is not None else {-1}
            assert ports <= PUBLIC_PORTS, f"{resource.urn} opens {low}-{high} to {cidr}"
            assert "0.0.0.0/0" in inv.spec.endpoint.allowed_cidrs or "::/0" in inv.spec.endpoint.allowed_cidrs, (
                f"{resource.urn} opens {cidr} although endpoint.allowedCidrs does not")


def test_irsa_roles_trust_one_service_account_each(inventory_of, stack):
    inv = inventory_of(stack)
    irsa = 0
    for role in inv.of_type("aws:iam/role:Role"):
        for statement in _statements(role.inputs["assumeRolePolicy"]):
            principal = statement["Principal"]
            if "Federated" not in principal:
                assert set(principal) == {"Service"}, f"{role.urn} trusts {principal}"
                continue
            irsa += 1
            assert statement["Action"] == "sts:AssumeRoleWithWebIdentity", role.urn
            assert set(statement["Condition"]) == {"StringEquals"}, f"{role.urn}: wildcard-capable condition operator"
            subjects = [v for k, v in statement["Condition"]["StringEquals"].items() if k.endswith(":sub")]
            assert len(subjects) == 1 and isinstance(subjects[0], str), f"{role.urn} trusts {subjects}"
            assert subjects[0].startswith("system:serviceaccount:") and "*" not in subjects[0], role.urn
            audiences = [v for k, v in statement["Condition"]["StringEquals"].items() if k.endswith(":aud")]
            assert audiences == ["sts.amazonaws.com"], role.urn
    assert irsa >= len(inv.spec.regions), "expected at least the EBS CSI IRSA role per region"


def test_no_star_action_on_star_resource(inventory_of, stack):
    inv = inventory_of(stack)
    documents = [(p, p.inputs["policy"]) for p in inv.of_type("aws:iam/rolePolicy:RolePolicy") + inv.of_type("aws:iam/policy:Policy")]
    documents += [(r, r.inputs["assumeRolePolicy"]) for r in inv.of_type("aws:iam/role:Role")]
    assert documents
    for resource, document in documents:
        for statement in _statements(document):
            if statement.get("Effect") != "Allow":
                continue
            actions = _as_list(statement.get("Action", []))
            resources = _as_list(statement.get("Resource", []))
            assert not ("*" in actions and "*" in resources), f"{resource.urn} allows * on *"
            assert not any(a.endswith(":*") for a in actions) or "*" not in resources, f"{resource.urn}: service-wide action on *"
    for attachment in inv.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        assert not attachment.inputs["policyArn"].endswith(("/AdministratorAccess", "/PowerUserAccess")), attachment.urn
