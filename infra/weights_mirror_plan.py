"""The in-region weights mirror as plain data: when it is on, where a revision lives, its IAM documents.

One home for the mirror's facts, shared by the program (`infra/components/weights_mirror.py`), the
chart values (`infra/chart_values.py`) and the estimate (`cli/estimate/costs/weights_mirror.py`). No
Pulumi here: the CLI imports this module on its warm path, and tests call every function directly.

Layout of a mirror bucket (one per region, private, SSE-KMS):

    s3://<bucket>/<owner>/<name>/<revision>/...            the repository's files at that commit
    s3://<bucket>/.tradeoff-infra/filled/<owner>/<name>/<revision>.json   completion marker

A revision's prefix is written once, by the fill Job, and never rewritten: the marker is the last
object the Job writes, so its presence means every file is there. The model path vLLM is given holds
the revision, so a pin, a canary or a rollback can only ever read the bytes of its own revision.
"""

from __future__ import annotations

import math
from typing import Any

from infra.iam import POLICY_VERSION
from infra.sizing import HUGGING_FACE_DOWNLOAD_BYTES_PER_SECOND

# `model.weightsMirror: auto` turns the mirror on for weights of this size or more. 20 GB is the line
# where a pull from Hugging Face stops being cheap and quick: an 8B model in bf16 (16 GB) costs
# $0.72 of NAT processing per node start at $0.045/GB and ~80 s of download at the 200 MB/s the
# startup budget assumes; a 70B (141 GB) costs $6.35 and ~12 minutes every time, and many replicas
# starting at once from one NAT address are what meets Hugging Face's rate limits. Below the line the
# mirror's fixed parts (a KMS key per region, a fill Job before the first start) buy little.
# See docs/stack-file.md (`model.weightsMirror`) and docs/sources.md.
AUTO_MIN_WEIGHT_BYTES = 20e9

PURPOSE_TAG_KEY = "tradeoff-infra/purpose"
PURPOSE_TAG_VALUE = "weights-mirror"
"""Tag on the mirror's bucket and KMS key: the estimate finds and prices them by it."""

MARKER_ROOT = ".tradeoff-infra/filled"
"""Marker objects live outside every model prefix, so vLLM's `*.json` pull never sees one."""

MULTIPART_CHUNK_BYTES = 64 * 1024 * 1024
"""Part size the fill Job uploads with (boto3 TransferConfig); each part is one PUT request."""

STREAMER_CHUNK_BYTES = 8 * 1024 * 1024
"""Bytes per ranged GET the Run:ai model streamer reads (its S3 default; assumption, docs/sources.md)."""

FILL_SCRATCH_GIB = 20
"""Local scratch of the fill Job: it downloads and uploads one file at a time (safetensors shards are a
few GB), so it fits on a system node's 50 GiB root volume."""

# Fill time: download from Hugging Face and upload to S3 one file after the other, at the rate the
# startup budget assumes for Hugging Face both ways, plus the image pull on the system node, with a
# 1.5x margin.
FILL_BYTES_PER_SECOND = HUGGING_FACE_DOWNLOAD_BYTES_PER_SECOND
FILL_FIXED_SECONDS = 600
FILL_MARGIN = 1.5

# Files of a Hugging Face repository the mirror leaves out: Meta's repositories carry the original
# consolidated checkpoints under original/ (as large as the safetensors), and vLLM loads safetensors.
SKIPPED_PATTERNS = ("original/*", "*.pth", "*.pt", "*.bin", "*.gguf", "*.msgpack", "*.h5", "*.onnx")


def mirror_enabled(setting: str | bool, weight_bytes: float | None) -> bool:
    """`model.weightsMirror`: true / false as given; "auto" on for weights of AUTO_MIN_WEIGHT_BYTES or more."""
    if setting == "auto":
        return (weight_bytes or 0) >= AUTO_MIN_WEIGHT_BYTES
    return bool(setting)


def object_prefix(source: str, revision: str) -> str:
    """`owner/name/<revision>`: the key prefix of one revision's files (no trailing slash)."""
    return f"{source}/{revision}"


def model_uri(bucket: str, source: str, revision: str) -> str:
    """The path vLLM loads with `--load-format runai_streamer`: `s3://<bucket>/<owner>/<name>/<revision>`."""
    return f"s3://{bucket}/{object_prefix(source, revision)}"


def marker_key(source: str, revision: str) -> str:
    """Key of the completion marker the fill Job writes last and the vLLM pods wait for."""
    return f"{MARKER_ROOT}/{object_prefix(source, revision)}.json"


def fill_seconds(weight_bytes: float) -> int:
    """Seconds the fill Job may take: download + upload of the weights, the image pull, a margin."""
    return int(math.ceil((2 * weight_bytes / FILL_BYTES_PER_SECOND + FILL_FIXED_SECONDS) * FILL_MARGIN))


def fill_put_requests(weight_bytes: float, files: int = 50) -> int:
    """PUT-class requests of one fill: a multipart upload per file (create + parts + complete), the marker."""
    parts = math.ceil(weight_bytes / MULTIPART_CHUNK_BYTES)
    return parts + 2 * files + 1


def load_get_requests(weight_bytes: float, files: int = 50) -> int:
    """GET-class requests of one replica start: ranged reads of the weights plus listing and config pulls."""
    return math.ceil(weight_bytes / STREAMER_CHUNK_BYTES) + files


# ---------------------------------------------------------------- IAM and bucket policy documents


def bucket_policy(bucket_arn: str) -> dict[str, Any]:
    """Refuse every request not made over TLS (the AWS-recommended `aws:SecureTransport` deny)."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [{
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }],
    }


def reader_policy(bucket_arn: str, key_arn: str) -> dict[str, Any]:
    """The vLLM pods: list and read the bucket, decrypt with its key. Nothing that writes or deletes."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {"Sid": "List", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [bucket_arn]},
            {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"{bucket_arn}/*"]},
            {"Sid": "Decrypt", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [key_arn]},
        ],
    }


def writer_policy(bucket_arn: str, key_arn: str) -> dict[str, Any]:
    """The fill Job: list, read (the marker, resumed files), put and finish multipart uploads; encrypt with
    the bucket's key (multipart uploads need kms:Decrypt too). No delete: a filled revision stays."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {"Sid": "List", "Effect": "Allow", "Action": ["s3:ListBucket", "s3:ListBucketMultipartUploads"],
             "Resource": [bucket_arn]},
            {"Sid": "ReadWrite", "Effect": "Allow",
             "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
             "Resource": [f"{bucket_arn}/*"]},
            {"Sid": "Encrypt", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": [key_arn]},
        ],
    }
