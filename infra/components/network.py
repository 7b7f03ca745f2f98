"""Network: the VPC one region's cluster lives in.

Public subnets hold only the load balancer and the NAT gateways; nodes live in private subnets
and reach the internet (image registries, Hugging Face) through NAT. An S3 gateway endpoint on the
private route tables keeps S3 traffic (ECR image layers, weight mirrors) off the NAT's per-GB charge.
With `regions[].transitGatewayId` the VPC is attached to that existing Transit Gateway (one
attachment ENI per private subnet) and the route tables send `cluster.privateAccessCidrs` through it:
the path by which a private-only Kubernetes API (private subnets) and an internal ALB (public subnets)
are reached from the corporate network.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.conventions import subnet_cidrs
from infra.spec import NetworkSpec


@dataclass
class NetworkArgs:
    vpc_cidr: str
    """The region's VPC range (spec `regions[].vpcCidr`)."""
    network: NetworkSpec
    """AZ count and NAT layout (spec `network`)."""
    cluster_name: str
    """EKS cluster name the subnets are tagged for (load balancer subnet discovery)."""
    region: str
    """AWS region code; names the S3 endpoint service."""
    instance_types: list[str]
    """Instance types the node groups use: only AZs offering all of them are picked."""
    tags: dict[str, str]
    """Tags for every network resource (besides the provider's default tags)."""
    transit_gateway_id: str | None = None
    """Existing Transit Gateway to attach the VPC to (spec `regions[].transitGatewayId`)."""
    transit_cidrs: list[str] = field(default_factory=list)
    """Ranges the private route tables send to the Transit Gateway (`spec.transit_routes`)."""


def pick_zones(available: list[str], locations: list[str], instance_types: list[str], offered_types: list[str], count: int) -> list[str]:
    """The first `count` available AZs (by name) that offer every instance type the node groups use."""
    offered: dict[str, set[str]] = {}
    for location, instance_type in zip(locations, offered_types):
        offered.setdefault(location, set()).add(instance_type)
    good = [az for az in sorted(available) if set(instance_types) <= offered.get(az, set())]
    if len(good) < count:
        raise ValueError(
            f"only {len(good)} availability zone(s) ({', '.join(good) or 'none'}) offer all of "
            f"{', '.join(sorted(set(instance_types)))}; network.availabilityZones asks for {count}"
        )
    return good[:count]


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    availability_zones: pulumi.Output[list[str]]
    connectivity: list[pulumi.Resource]
    """Resources the Kubernetes API's reachability from outside the VPC waits for (the Transit
    Gateway attachment and the routes through it); empty without a Transit Gateway."""

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tradeoff-infra:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        count = args.network.availability_zones
        invoke = pulumi.InvokeOptions(parent=self)
        zones_available = aws.get_availability_zones_output(
            state="available",
            filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],  # no Local/Wavelength zones
            opts=invoke,
        )
        offerings = aws.ec2.get_instance_type_offerings_output(
            location_type="availability-zone",
            filters=[{"name": "instance-type", "values": sorted(set(args.instance_types))}],
            opts=invoke,
        )
        self.availability_zones = pulumi.Output.all(
            zones_available.names, offerings.locations, offerings.instance_types
        ).apply(lambda a: pick_zones(a[0], a[1], args.instance_types, a[2], count))

        cluster_tag = {f"kubernetes.io/cluster/{args.cluster_name}": "shared"}
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.vpc_cidr,
            enable_dns_hostnames=True,  # EKS private endpoint and VPC endpoints need DNS names
            enable_dns_support=True,
            tags={**args.tags, "Name": f"{name}-vpc"},
            opts=child,
        )
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags={**args.tags, "Name": f"{name}-igw"}, opts=child)

        private_cidrs, public_cidrs = subnet_cidrs(args.vpc_cidr, count)
        public_subnets, private_subnets = [], []
        for i in range(count):
            zone = self.availability_zones.apply(lambda zones, i=i: zones[i])
            public_subnets.append(aws.ec2.Subnet(
                f"{name}-public-{i}",
                vpc_id=vpc.id,
                cidr_block=public_cidrs[i],
                availability_zone=zone,
                map_public_ip_on_launch=False,  # nothing launched here needs a public IP; NAT uses an EIP
                tags={**args.tags, **cluster_tag, "Name": f"{name}-public-{i}", "kubernetes.io/role/elb": "1"},
                opts=child,
            ))
            private_subnets.append(aws.ec2.Subnet(
                f"{name}-private-{i}",
                vpc_id=vpc.id,
                cidr_block=private_cidrs[i],
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={**args.tags, **cluster_tag, "Name": f"{name}-private-{i}", "kubernetes.io/role/internal-elb": "1"},
                opts=child,
            ))

        # The attachment's default route-table association and propagation (the Transit Gateway's own
        # settings) advertise this VPC's range to the networks on the gateway.
        attachment = None
        if args.transit_gateway_id:
            attachment = aws.ec2transitgateway.VpcAttachment(
                f"{name}-tgw",
                transit_gateway_id=args.transit_gateway_id,
                vpc_id=vpc.id,
                subnet_ids=[s.id for s in private_subnets],
                dns_support="enable",
                tags={**args.tags, "Name": f"{name}-tgw"},
                opts=child,
            )
        # Routes stay inline: pulumi-aws refuses inline routes mixed with separate aws.ec2.Route resources.
        transit = [{"cidr_block": cidr, "transit_gateway_id": args.transit_gateway_id}
                   for cidr in (args.transit_cidrs if attachment else [])]
        # A route to a Transit Gateway is refused until the VPC is attached to it.
        after_attachment = pulumi.ResourceOptions(parent=self, depends_on=[attachment] if attachment else [])
        # The public (edge) subnets get the transit routes too: an internal ALB sits there, and its answers to
        # clients behind the gateway leave through this table (without them they would go to the internet gateway).
        public_routes = aws.ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": igw.id}, *transit],
            tags={**args.tags, "Name": f"{name}-public"},
            opts=after_attachment,
        )
        for i, subnet in enumerate(public_subnets):
            aws.ec2.RouteTableAssociation(f"{name}-public-{i}", subnet_id=subnet.id, route_table_id=public_routes.id, opts=child)

        nat_count = count if args.network.nat_gateways == "per-az" else 1
        nats = []
        for i in range(nat_count):
            eip = aws.ec2.Eip(f"{name}-nat-{i}", domain="vpc", tags={**args.tags, "Name": f"{name}-nat-{i}"}, opts=child)
            nats.append(aws.ec2.NatGateway(
                f"{name}-nat-{i}",
                allocation_id=eip.id,
                subnet_id=public_subnets[i].id,
                connectivity_type="public",
                tags={**args.tags, "Name": f"{name}-nat-{i}"},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
            ))

        private_route_tables = []
        for i, subnet in enumerate(private_subnets):
            nat = nats[i] if nat_count > 1 else nats[0]
            table = aws.ec2.RouteTable(
                f"{name}-private-rt-{i}",
                vpc_id=vpc.id,
                routes=[{"cidr_block": "0.0.0.0/0", "nat_gateway_id": nat.id}, *transit],
                tags={**args.tags, "Name": f"{name}-private-{i}"},
                opts=after_attachment,
            )
            aws.ec2.RouteTableAssociation(f"{name}-private-{i}", subnet_id=subnet.id, route_table_id=table.id, opts=child)
            private_route_tables.append(table)

        # Gateway endpoints are free; interface endpoints would cost per hour and AZ.
        aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[t.id for t in private_route_tables],
            tags={**args.tags, "Name": f"{name}-s3"},
            opts=child,
        )

        self.vpc_id = vpc.id
        self.public_subnet_ids = [s.id for s in public_subnets]
        self.private_subnet_ids = [s.id for s in private_subnets]
        self.connectivity = [attachment, *private_route_tables] if attachment else []
        self.register_outputs({
            "vpc_id": self.vpc_id,
            "public_subnet_ids": self.public_subnet_ids,
            "private_subnet_ids": self.private_subnet_ids,
            "availability_zones": self.availability_zones,
        })
