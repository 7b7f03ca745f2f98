"""Names and tags every region's resources share, as plain functions (no Pulumi: the CLI and tests call them).

`RegionalDeployment` names its EKS cluster and sets its provider's default tags with these;
`GlobalEndpoint` tags the accelerator's provider the same way (region `global`).
"""

from __future__ import annotations

import re

from infra.spec import PROJECT


def cluster_name(stack: str, prefix: str) -> str:
    """Physical EKS cluster name: unique per stack and region, within EKS's 100-character pattern."""
    safe_stack = re.sub(r"[^A-Za-z0-9-]", "-", stack)
    return f"{PROJECT}-{safe_stack}-{prefix}"[:100]


def base_tags(stack: str, region: str) -> dict[str, str]:
    """Tags on every AWS resource of a region (the provider's default tags; launch templates repeat them)."""
    return {"tradeoff-infra/stack": stack, "tradeoff-infra/region": region, "managed-by": "pulumi"}
