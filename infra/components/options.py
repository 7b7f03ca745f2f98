"""Resource options the components share: dependencies that reach every resource inside a component,
and aliases that keep a moved resource's state.

No component here: `RegionalDeployment` and the components it composes import these.
"""

from __future__ import annotations

import pulumi


def wait_for(resources: list[pulumi.Resource]) -> pulumi.ResourceOptions:
    """Options that make a component *and every resource inside it* wait for `resources`.

    A component's own `depends_on` does not reach its children's registrations; a transformation
    (inherited by all descendants, Helm chart objects included) does.
    """

    def add_dependencies(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult:
        return pulumi.ResourceTransformationResult(
            args.props, pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(depends_on=resources))
        )

    return pulumi.ResourceOptions(depends_on=resources, transformations=[add_dependencies])


def moved_from(former_parent: pulumi.Input[str] | pulumi.Resource | None) -> list[pulumi.Alias]:
    """Aliases for a resource that moved, name unchanged, from under `former_parent` (a component or
    its URN) to a new parent: the engine finds the resource's state under its old URN and updates it
    in place instead of creating a new one and deleting the old. None: nothing moved (no alias)."""
    return [] if former_parent is None else [pulumi.Alias(parent=former_parent)]
