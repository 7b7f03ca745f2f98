"""EKS control plane: cluster-hours at the standard or, past the version's standard support, the extended rate."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from cli.estimate.line_item import HOURS, LineItem
from cli.estimate.records import ControlPlane

if TYPE_CHECKING:
    from cli.estimate.costs import CostContext

KIND = ControlPlane
USAGE = None


def fixed(record: ControlPlane, ctx: CostContext) -> list[LineItem]:
    ends = ctx.book.catalog.data["platform"]["default"]["eksStandardSupportEnds"]
    end = ends["versions"].get(record.kubernetes_version)
    key = "eksClusterHour"
    desc = f"EKS control plane {record.kubernetes_version}, standard support"
    if end and date.fromisoformat(end) <= ctx.as_of:
        key = "eksClusterExtendedSupportHour"
        desc = f"EKS control plane {record.kubernetes_version}, EXTENDED support (standard support ended {end})"
        ctx.warnings.append(
            f"{record.region}: Kubernetes {record.kubernetes_version} left EKS standard support on {end}: the "
            f"control plane bills extended support ($0.60/h instead of $0.10/h); set cluster.kubernetesVersion "
            "to a version in standard support")
    elif end is None:
        ctx.warnings.append(f"{record.region}: EKS version {record.kubernetes_version} is not in the catalog's "
                            "support calendar; priced at standard support")
    price, note = ctx.book.platform(record.region, key)
    return [LineItem.fixed(record.region, record.name, "control-plane", desc, "cluster-hours", HOURS, price, note)]


def usage(record: ControlPlane, ctx: CostContext, run) -> list[LineItem]:
    return []
