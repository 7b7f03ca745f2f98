"""A Helm chart from a public repository, pinned to one version, installed as a `helm.v3.Release`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class PinnedChart:
    chart: str
    version: str
    repo: str
    source: str
    """Where the version was read, with the date (a pin without a source is a guess)."""

    def release(
        self,
        resource_name: str,
        *,
        release_name: str,
        namespace: str,
        values: pulumi.Input[dict[str, Any]],
        opts: pulumi.ResourceOptions,
        **extra: Any,
    ) -> k8s.helm.v3.Release:
        """The Release; `release_name` is fixed (not auto-named) because Service names derive from it."""
        return k8s.helm.v3.Release(
            resource_name,
            name=release_name,
            chart=self.chart,
            version=self.version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=self.repo),
            namespace=namespace,
            values=values,
            opts=opts,
            **extra,
        )
