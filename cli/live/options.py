"""The options that name the clusters a live command reaches (`status`, `actuals`): one home for their help."""

from __future__ import annotations

import pathlib
from typing import Annotated

import typer

from cli.path_options import path_option

KubeconfigOpt = Annotated[pathlib.Path | None, path_option(
    "--kubeconfig", metavar="FILE", help="Reach the clusters with this kubeconfig instead of the stack's `kubeconfigs` output "
                         "(which needs the Pulumi CLI and the stack's backend).")]
ContextOpt = Annotated[list[str] | None, typer.Option(
    "--context", metavar="[REGION=]CONTEXT", help="With --kubeconfig: CONTEXT for a one-region stack, REGION=CONTEXT (repeat it) otherwise; "
                      "default: the file's current context (one-region stacks).")]
