"""Writes the format fixture tests/data/pricing/offers/<service>/eu-central-1/index.json (see README.md there).

Run from the repository root: `.venv/bin/python tests/data/pricing/offers/make_offers.py tests/data/pricing/offers`.
"""
import json, pathlib, sys
root = pathlib.Path(sys.argv[1])
LOC = {"location": "EU (Frankfurt)", "locationType": "AWS Region", "regionCode": "eu-central-1"}
n = [0]
def sku():
    n[0] += 1
    return f"TESTSKU{n[0]:09d}"
def offer(code, items):
    products, od, rsv = {}, {}, {}
    for family, attrs, terms in items:
        s = sku()
        products[s] = {"sku": s, "productFamily": family, "attributes": {"servicecode": code, **LOC, **attrs}}
        for kind, term_attrs, dims in terms:
            code_ = "JRTCKXETXF" if kind == "OnDemand" else ("4NA7Y494T4" if term_attrs.get("LeaseContractLength") == "1yr" else "BPH4J8HBKS")
            pd = {}
            for i, (unit, usd, begin, end, desc) in enumerate(dims):
                rc = f"{s}.{code_}.RATE{i:06d}"
                pd[rc] = {"rateCode": rc, "description": desc, "beginRange": begin, "endRange": end, "unit": unit,
                          "pricePerUnit": {"USD": usd}, "appliesTo": []}
            (od if kind == "OnDemand" else rsv).setdefault(s, {})[f"{s}.{code_}"] = {
                "offerTermCode": code_, "sku": s, "effectiveDate": "2026-11-01T00:00:00Z", "priceDimensions": pd,
                "termAttributes": term_attrs}
    doc = {"formatVersion": "v1.0", "disclaimer": "format fixture, see tests/data/pricing/offers/README.md",
           "offerCode": code, "version": "20261130000000", "publicationDate": "2026-11-30T00:00:00Z",
           "products": products, "terms": {"OnDemand": od, "Reserved": rsv}}
    path = root / code / "eu-central-1" / "index.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1) + "\n")
OD = lambda unit, usd, desc, begin="0", end="Inf": ("OnDemand", {}, [(unit, usd, begin, end, desc)])
LINUX = {"operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used",
         "licenseModel": "No License required", "operation": "RunInstances"}
offer("AmazonEC2", [
    ("Compute Instance", {**LINUX, "instanceType": "g6e.xlarge", "usagetype": "EUC1-BoxUsage:g6e.xlarge"}, [
        OD("Hrs", "2.3270000000", "$2.327 per On Demand Linux g6e.xlarge Instance Hour"),
        ("Reserved", {"LeaseContractLength": "1yr", "OfferingClass": "standard", "PurchaseOption": "No Upfront"},
         [("Hrs", "1.4660100000", "0", "Inf", "Linux/UNIX (Amazon VPC), g6e.xlarge reserved instance applied")]),
        ("Reserved", {"LeaseContractLength": "3yr", "OfferingClass": "convertible", "PurchaseOption": "All Upfront"},
         [("Quantity", "30000", "0", "Inf", "Upfront Fee"), ("Hrs", "0.0000000000", "0", "Inf", "decoy: 3-year all upfront")]),
    ]),
    ("Compute Instance", {**LINUX, "instanceType": "g6e.xlarge", "operatingSystem": "Windows",
                          "usagetype": "EUC1-BoxUsage:g6e.xlarge", "operation": "RunInstances:0002"},
     [OD("Hrs", "9.9990000000", "decoy: Windows")]),
    ("Compute Instance", {**LINUX, "instanceType": "g6e.xlarge", "preInstalledSw": "SQL Web",
                          "usagetype": "EUC1-BoxUsage:g6e.xlarge", "operation": "RunInstances:0200"},
     [OD("Hrs", "8.8880000000", "decoy: SQL Web pre-installed")]),
    ("NAT Gateway", {"usagetype": "EUC1-NatGateway-Hours", "operation": "NatGateway", "group": "NGW:NatGateway"},
     [OD("Hrs", "0.0520000000", "$0.052 per NAT Gateway Hour")]),
    ("NAT Gateway", {"usagetype": "EUC1-NatGateway-Bytes", "operation": "NatGateway", "group": "NGW:NatGateway"},
     [OD("GB", "0.0520000000", "$0.052 per GB Data Processed by NAT Gateways")]),
    ("NAT Gateway", {"usagetype": "EUC1-RegionalNatGateway-Hours", "operation": "NatGateway"},
     [OD("Hrs", "7.7770000000", "decoy: a regional NAT gateway is another product")]),
    ("Storage", {"volumeApiName": "gp3", "volumeType": "General Purpose", "usagetype": "EUC1-EBS:VolumeUsage.gp3"},
     [OD("GB-Mo", "0.0800000000", "per GB-month of General Purpose (gp3) provisioned storage")]),
    ("Storage", {"volumeApiName": "gp2", "volumeType": "General Purpose", "usagetype": "EUC1-EBS:VolumeUsage.gp2"},
     [OD("GB-Mo", "0.1000000000", "per GB-month of General Purpose (gp2) provisioned storage")]),
    ("System Operation", {"volumeApiName": "gp3", "group": "EBS IOPS", "usagetype": "EUC1-EBS:VolumeP-IOPS.gp3"},
     [OD("IOPS-Mo", "0.0050000000", "per IOPS-month provisioned above 3000 (gp3)")]),
    ("Provisioned Throughput", {"volumeApiName": "gp3", "usagetype": "EUC1-EBS:VolumeP-Throughput.gp3"},
     [OD("GiBps-mo", "40.9600000000", "per GiBps-month of throughput provisioned above 125 MiB/s (gp3)")]),
])
offer("AmazonVPC", [
    ("IP Address", {"usagetype": "EUC1-PublicIPv4:InUseAddress", "group": "VPCPublicIPv4Address"},
     [OD("Hrs", "0.0050000000", "$0.005 per In-use public IPv4 address per hour")]),
    ("IP Address", {"usagetype": "EUC1-PublicIPv4:IdleAddress", "group": "VPCPublicIPv4Address"},
     [OD("Hrs", "0.0060000000", "decoy: idle address")]),
    ("VpcEndpoint", {"usagetype": "EUC1-VpcEndpoint-Hours", "group": "VpcEndpoint"},
     [OD("Hrs", "0.0100000000", "per VPC endpoint per AZ-hour")]),
])
offer("AWSELB", [
    ("Load Balancer-Application", {"usagetype": "EUC1-LoadBalancerUsage", "operation": "LoadBalancing:Application"},
     [OD("Hrs", "0.0225000000", "per Application LoadBalancer-hour (or partial hour)")]),
    ("Load Balancer-Application", {"usagetype": "EUC1-LCUUsage", "operation": "LoadBalancing:Application"},
     [OD("LCU-Hrs", "0.0080000000", "per used Application load balancer capacity unit-hour (or partial hour)")]),
    ("Load Balancer-Application", {"usagetype": "EUC1-TS-LoadBalancerUsage", "operation": "LoadBalancing:Application"},
     [OD("Hrs", "0.0059000000", "decoy: trust store")]),
    ("Load Balancer-Network", {"usagetype": "EUC1-LoadBalancerUsage", "operation": "LoadBalancing:Network"},
     [OD("Hrs", "0.0225000000", "per Network LoadBalancer-hour (or partial hour)")]),
    ("Load Balancer-Network", {"usagetype": "EUC1-LCUUsage", "operation": "LoadBalancing:Network"},
     [OD("LCU-Hrs", "0.0060000000", "per used Network load balancer capacity unit-hour (or partial hour)")]),
])
offer("AmazonCloudWatch", [
    ("Data Payload", {"usagetype": "EUC1-DataProcessing-Bytes", "group": "Ingested Logs"},
     [OD("GB", "0.5000000000", "per GB custom log data ingested")]),
    ("Storage Snapshot", {"usagetype": "EUC1-TimedStorage-ByteHrs"},
     [OD("GB-Mo", "0.0300000000", "per GB archived per month")]),
    ("Alarm", {"usagetype": "EUC1-CW:AlarmMonitorUsage", "alarmType": "Standard"},
     [OD("Alarms", "0.1000000000", "per alarm metric month - standard resolution")]),
    ("Alarm", {"usagetype": "EUC1-CW:HighResAlarmMonitorUsage", "alarmType": "High Resolution"},
     [OD("Alarms", "0.3000000000", "per alarm metric month - high resolution")]),
    ("Metric", {"usagetype": "EUC1-CW:MetricMonitorUsage"}, [("OnDemand", {}, [
        ("Metrics", "0.3000000000", "0", "10000", "per metric-month for the first 10,000 metrics"),
        ("Metrics", "0.1000000000", "10000", "250000", "per metric-month for the next 240,000 metrics")])]),
])
offer("AWSDataTransfer", [
    ("Data Transfer", {"transferType": "AWS Outbound", "fromLocation": "EU (Frankfurt)", "toLocation": "External",
                       "usagetype": "EUC1-DataTransfer-Out-Bytes"}, [("OnDemand", {}, [
        ("GB", "0.0000000000", "0", "100", "free tier"),
        ("GB", "0.0900000000", "100", "10240", "first 10 TB"),
        ("GB", "0.0850000000", "10240", "51200", "next 40 TB"),
        ("GB", "0.0700000000", "51200", "153600", "next 100 TB"),
        ("GB", "0.0500000000", "153600", "Inf", "over 150 TB")])]),
    ("Data Transfer", {"transferType": "InterRegion Outbound", "fromLocation": "EU (Frankfurt)",
                       "toLocation": "US East (N. Virginia)", "usagetype": "EUC1-USE1-AWS-Out-Bytes"},
     [OD("GB", "0.0200000000", "inter-region to us-east-1")]),
    ("Data Transfer", {"transferType": "InterRegion Outbound", "fromLocation": "EU (Frankfurt)",
                       "toLocation": "EU (Ireland)", "usagetype": "EUC1-EU-AWS-Out-Bytes"},
     [OD("GB", "0.0200000000", "inter-region to eu-west-1")]),
    ("Data Transfer", {"transferType": "IntraRegion", "fromLocation": "EU (Frankfurt)", "toLocation": "EU (Frankfurt)",
                       "usagetype": "EUC1-DataTransfer-Regional-Bytes"},
     [OD("GB", "0.0100000000", "per GB - regional data transfer - in/out/between EC2 AZs")]),
])
offer("AmazonS3", [
    ("Storage", {"storageClass": "General Purpose", "volumeType": "Standard", "usagetype": "EUC1-TimedStorage-ByteHrs"},
     [("OnDemand", {}, [("GB-Mo", "0.0230000000", "0", "51200", "first 50 TB"),
                        ("GB-Mo", "0.0220000000", "51200", "512000", "next 450 TB")])]),
    ("API Request", {"group": "S3-API-Tier1", "usagetype": "EUC1-Requests-Tier1"},
     [OD("Requests", "0.0000050000", "PUT, COPY, POST, or LIST requests")]),
    ("API Request", {"group": "S3-API-Tier2", "usagetype": "EUC1-Requests-Tier2"},
     [OD("Requests", "0.0000004000", "GET and all other requests")]),
])
