"""WeightsMirror: a private, KMS-encrypted S3 bucket in one region that holds the pinned model weights.

Without it every new vLLM pod pulls the weights from Hugging Face through the NAT gateway (141 GB
for a 70B model: ~$6 of NAT processing per start, and Hugging Face's rate limits). With it the chart's
fill Job copies `source@revision` into `s3://<bucket>/<source>/<revision>/` once, and the pods stream
the weights from the bucket over the VPC's S3 gateway endpoint (`Network`), which is free and never
touches the NAT gateway. Layout, marker and policy documents: `infra/weights_mirror_plan.py`.

Two IRSA roles, each for exactly one service account of the vLLM namespace: the reader (the vLLM
pods: list, get, decrypt) and the writer (the fill Job: put, no delete).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra import weights_mirror_plan as plan
from infra.components.context import RegionContext
from infra.components.service_account_role import irsa_role

KMS_DELETION_WINDOW_DAYS = 30
# S3 removes parts of an upload that never completed (a fill Job killed mid-file) after this many days.
ABORT_INCOMPLETE_UPLOAD_DAYS = 2
# bucket_prefix: at most 37 characters; S3 appends a unique 26-character suffix.
BUCKET_PREFIX_MAX = 37


def bucket_prefix(stack: str, prefix: str) -> str:
    """`<stack>-<region prefix>-weights-`, lower-case, within S3's 37-character bucket_prefix limit."""
    safe = re.sub(r"[^a-z0-9-]", "-", stack.lower()).strip("-") or "stack"
    tail = f"-{prefix}-weights-"
    return safe[: BUCKET_PREFIX_MAX - len(tail)].rstrip("-") + tail


@dataclass
class WeightsMirrorArgs:
    ctx: RegionContext
    """The region's spec, providers and cluster outputs (the IRSA roles trust its OIDC provider)."""
    stack: str
    """Pulumi stack name (the bucket's name prefix)."""
    namespace: str
    """Kubernetes namespace of the reader and writer service accounts."""
    reader_service_account: str
    """Service account of the vLLM pods (read-only on the bucket)."""
    writer_service_account: str
    """Service account of the fill Job (writes the revision's prefix and its marker)."""
    tags: dict[str, str]


class WeightsMirror(pulumi.ComponentResource):
    """KMS key, S3 bucket (public access blocked, TLS only, SSE-KMS, owner-enforced), reader and writer roles."""

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    reader_role_arn: pulumi.Output[str]
    writer_role_arn: pulumi.Output[str]
    chart_inputs: pulumi.Output[dict]

    def __init__(self, name: str, args: WeightsMirrorArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tradeoff-infra:weights:WeightsMirror", name, None, opts)
        ctx = args.ctx
        child = ctx.opts(self)
        tags = {**args.tags, plan.PURPOSE_TAG_KEY: plan.PURPOSE_TAG_VALUE}

        key = aws.kms.Key(
            f"{name}-key",
            description=f"Model weights mirror of {args.stack} in {ctx.region.region} (S3 SSE-KMS)",
            enable_key_rotation=True,
            deletion_window_in_days=KMS_DELETION_WINDOW_DAYS,
            tags=tags,
            opts=child,
        )
        bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket_prefix=bucket_prefix(args.stack, ctx.prefix),
            # A cache of public (or licence-gated) weights that the fill Job can always rebuild from
            # Hugging Face: `pulumi destroy` may empty it rather than fail on a non-empty bucket.
            force_destroy=True,
            tags=tags,
            opts=child,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[{
                "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": key.arn},
                # One data key per bucket instead of a KMS request per object: KMS request charges stay negligible.
                "bucket_key_enabled": True,
            }],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=[{
                "id": "abort-incomplete-uploads",
                "status": "Enabled",
                "filter": {"prefix": ""},
                "abort_incomplete_multipart_upload": {"days_after_initiation": ABORT_INCOMPLETE_UPLOAD_DAYS},
            }],
            opts=child,
        )
        # After the public access block: a policy put before it could race S3's public-policy check.
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket.id,
            policy=bucket.arn.apply(lambda arn: json.dumps(plan.bucket_policy(arn))),
            opts=ctx.opts(self, depends_on=[public_access]),
        )

        arns = pulumi.Output.all(bucket.arn, key.arn)
        roles = {
            role: irsa_role(
                f"{name}-{role}",
                ctx,
                namespace=args.namespace,
                service_account=account,
                policy=arns.apply(lambda a, document=document: json.dumps(document(a[0], a[1]))),
                description=description,
                parent=self,
            )
            for role, account, document, description in (
                ("reader", args.reader_service_account, plan.reader_policy,
                 "vLLM pods: read the model weights mirror"),
                ("writer", args.writer_service_account, plan.writer_policy,
                 "weights fill Job: copy pinned revisions from Hugging Face into the mirror"),
            )
        }
        reader, writer = roles["reader"], roles["writer"]

        self.chart_inputs = pulumi.Output.all(bucket.bucket, reader.arn, writer.arn).apply(
            lambda a: {"bucket": a[0], "reader_role_arn": a[1], "writer_role_arn": a[2],
                       "reader_service_account": args.reader_service_account,
                       "writer_service_account": args.writer_service_account})
        """What `chart_values.vllm_values(weights_mirror=...)` takes."""
        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn
        self.reader_role_arn = reader.arn
        self.writer_role_arn = writer.arn
        self.register_outputs({
            "bucket_name": self.bucket_name,
            "bucket_arn": self.bucket_arn,
            "reader_role_arn": self.reader_role_arn,
            "writer_role_arn": self.writer_role_arn,
        })
