"""IAM policy documents as plain data: trust policies for AWS services and IRSA service accounts.

Pure functions (no Pulumi): components feed them resolved outputs through
`pulumi.Output.all(...).apply(lambda args: json.dumps(irsa_trust_policy(*args, ...)))`,
and tests call them directly.
"""

from __future__ import annotations

from typing import Any

POLICY_VERSION = "2012-10-17"


def _issuer_host_path(oidc_provider_url: str) -> str:
    """IAM condition keys use the issuer without its scheme: `oidc.eks.<region>.amazonaws.com/id/<ID>`."""
    url = oidc_provider_url.strip()
    for scheme in ("https://", "http://"):
        if url.startswith(scheme):
            url = url[len(scheme):]
    url = url.rstrip("/")
    if not url:
        raise ValueError("oidc_provider_url is empty: the cluster's OIDC issuer is needed for an IRSA trust policy")
    return url


def irsa_trust_policy(oidc_provider_arn: str, oidc_provider_url: str, namespace: str, service_account: str) -> dict[str, Any]:
    """Trust policy that lets exactly one Kubernetes service account assume the role (IRSA).

    Both `sub` (the one service account) and `aud` (STS) are pinned with StringEquals, as the
    EKS user guide's "Configure a role for a service account" prescribes; a wildcard subject
    would let every pod in the cluster assume the role.
    """
    if not namespace or not service_account:
        raise ValueError("namespace and service_account must both be given: an IRSA role serves one service account")
    if any(c in namespace + service_account for c in "*?"):
        raise ValueError(f"{namespace}:{service_account}: wildcards are refused; an IRSA role serves one service account")
    issuer = _issuer_host_path(oidc_provider_url)
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": oidc_provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                        f"{issuer}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ],
    }


def assume_role_policy(service: str) -> dict[str, Any]:
    """Trust policy for an AWS service principal, e.g. `eks.amazonaws.com` or `ec2.amazonaws.com`."""
    if not service.endswith(".amazonaws.com"):
        raise ValueError(f"{service!r} is not an AWS service principal (expected <name>.amazonaws.com)")
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def arn_partition(arn: str) -> str:
    """The partition of an ARN: `aws`, `aws-cn`, `aws-us-gov`, ... (`arn:<partition>:<service>:...`)."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn" or not parts[1]:
        raise ValueError(f"{arn!r} is not an ARN (arn:<partition>:<service>:<region>:<account>:<resource>)")
    return parts[1]


def managed_policy_arn(name: str, partition: str) -> str:
    """ARN of an AWS managed policy, e.g. `AmazonEKSClusterPolicy`, in `partition` (take it from an ARN
    of the same account, `arn_partition(role_arn)`: a GovCloud or China account has no `arn:aws:` policies)."""
    if not partition:
        raise ValueError(f"{name}: the partition is empty; take it from an ARN of the account (arn_partition)")
    return f"arn:{partition}:iam::aws:policy/{name}"


def managed_policy_arn_for(name: str, role_arn: str) -> str:
    """ARN of the AWS managed policy `name` in the partition of `role_arn`, the role it is attached to."""
    return managed_policy_arn(name, arn_partition(role_arn))
