"""The planned resource: one registration the program makes, as the engine would receive it.

Pulumi-free on purpose: the recording mocks (`cli/inventory.py`) build it, the inventory cache
(`cli/cache.py`) stores and loads it, and a warm estimate must not import Pulumi.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PlannedResource:
    """One resource the program registers, as the engine would receive it."""

    urn: str
    type: str
    """Type token, e.g. `aws:eks/cluster:Cluster` (providers: `pulumi:providers:aws`)."""
    name: str
    inputs: dict[str, Any]
    """Wire inputs: camelCase keys, numbers as floats, secrets unwrapped, unknowns dropped."""
    custom: bool
    region: str | None
    """AWS region of the resource's provider, or of its parent chain's; None for global/unplaced."""
    parent: str | None
    provider: str | None = None
    """URN of the explicit provider the resource was registered with, if any."""
    id: str | None = None
    """The physical id the mocks gave it (references between resources carry it)."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """What the mocks returned as its state: the inputs plus fake ARNs, endpoints, names."""
    dependencies: list[str] = field(default_factory=list)
    """URNs it depends on (explicit `depends_on` plus inputs from other resources)."""
