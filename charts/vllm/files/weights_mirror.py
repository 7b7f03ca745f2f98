"""Fill and wait for the in-region weights mirror (run inside the pinned vLLM image: boto3, huggingface_hub).

    python3 weights_mirror.py fill   # the fill Job: copy SOURCE@REVISION into s3://BUCKET/PREFIX/, once
    python3 weights_mirror.py wait   # the vLLM pods' init container: block until that copy is complete

Environment: SOURCE, REVISION, BUCKET, PREFIX, MARKER_KEY, AWS_REGION; for fill also SCRATCH (a
directory), CHUNK_BYTES (multipart part size), SKIP_PATTERNS (comma-separated globs) and HF_TOKEN
(gated repositories); for wait POLL_SECONDS.

The marker at MARKER_KEY is written last, after every file, and names the source and revision it
completes. `fill` does nothing when it is there (a re-run, a rollback to a filled revision) and resumes
a crashed fill by skipping files already uploaded whole. `wait` refuses a marker of another revision,
so a pod can never start on weights it was not pinned to. Rendered by charts/vllm from this file;
tests/infra/test_weights_mirror.py runs both commands against stand-in S3 and Hugging Face clients.
"""

from __future__ import annotations

import datetime
import fnmatch
import json
import os
import sys
import time


class MirrorError(Exception):
    """The mirror cannot be filled or trusted; the message says why."""


def _missing(err: Exception) -> bool:
    code = (getattr(err, "response", None) or {}).get("Error", {}).get("Code")
    return code in ("NoSuchKey", "404", "NotFound")


def read_marker(s3, bucket: str, key: str) -> dict | None:
    """The completion marker, or None when the revision has not been filled (yet)."""
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as err:  # botocore's ClientError; the stand-in clients raise their own
        if _missing(err):
            return None
        raise
    return json.loads(body)


def check_marker(marker: dict, source: str, revision: str, key: str) -> None:
    if marker.get("source") != source or marker.get("revision") != revision:
        raise MirrorError(f"marker {key} completes {marker.get('source')}@{marker.get('revision')}, "
                          f"not {source}@{revision}: refusing to serve or overwrite another revision's weights")


def object_size(s3, bucket: str, key: str) -> int | None:
    try:
        return int(s3.head_object(Bucket=bucket, Key=key)["ContentLength"])
    except Exception as err:
        if _missing(err):
            return None
        raise


def wanted(files: list[tuple[str, int | None]], skip: list[str]) -> list[tuple[str, int | None]]:
    """The repository's files minus the skipped patterns; refuses a repository without safetensors."""
    kept = [(name, size) for name, size in files if not any(fnmatch.fnmatch(name, p) for p in skip)]
    if not any(name.endswith(".safetensors") for name, _ in kept):
        raise MirrorError("the repository has no .safetensors files; vLLM's runai_streamer loads only safetensors")
    return kept


def fill(env: dict, s3, hub, log=print) -> str:
    """Copy SOURCE@REVISION into the bucket unless its marker is there. Returns "skipped" or "filled"."""
    source, revision, bucket = env["SOURCE"], env["REVISION"], env["BUCKET"]
    prefix, marker_key = env["PREFIX"].rstrip("/"), env["MARKER_KEY"]
    marker = read_marker(s3, bucket, marker_key)
    if marker is not None:
        check_marker(marker, source, revision, marker_key)
        log(f"{source}@{revision} is already in s3://{bucket}/{prefix}/ (marker {marker_key}): nothing to do")
        return "skipped"
    skip = [p for p in env.get("SKIP_PATTERNS", "").split(",") if p]
    files = wanted(hub.files(source, revision), skip)
    scratch = env["SCRATCH"]
    for i, (name, size) in enumerate(files, 1):
        key = f"{prefix}/{name}"
        if size is not None and object_size(s3, bucket, key) == size:
            log(f"[{i}/{len(files)}] {name}: already uploaded")
            continue
        path = hub.download(source, name, revision, scratch)
        got = os.path.getsize(path)
        if size is not None and got != size:
            raise MirrorError(f"{name}: downloaded {got} bytes, Hugging Face lists {size}")
        s3.upload_file(path, bucket, key, int(env.get("CHUNK_BYTES", 64 * 1024 * 1024)))
        os.remove(path)
        log(f"[{i}/{len(files)}] {name}: {got} bytes uploaded")
    record = {
        "source": source,
        "revision": revision,
        "files": [{"name": name, "size": size} for name, size in files],
        "filledAt": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    s3.put_object(Bucket=bucket, Key=marker_key, Body=json.dumps(record).encode(), ContentType="application/json")
    log(f"{source}@{revision}: {len(files)} files in s3://{bucket}/{prefix}/, marker {marker_key} written")
    return "filled"


def wait(env: dict, s3, sleep=time.sleep, log=print, attempts: int | None = None) -> None:
    """Return once the marker of SOURCE@REVISION exists; raise MirrorError on another revision's marker."""
    source, revision, bucket, key = env["SOURCE"], env["REVISION"], env["BUCKET"], env["MARKER_KEY"]
    poll = float(env.get("POLL_SECONDS", "15"))
    tried = 0
    while True:
        marker = read_marker(s3, bucket, key)
        if marker is not None:
            check_marker(marker, source, revision, key)
            log(f"{source}@{revision} is in the mirror; starting vLLM")
            return
        tried += 1
        if attempts is not None and tried >= attempts:
            raise MirrorError(f"no marker {key} after {tried} checks")
        log(f"waiting for the fill Job to finish {source}@{revision} (marker {key})")
        sleep(poll)


# ---------------------------------------------------------------- the real clients (in the vLLM image)


class _S3:
    """boto3's S3 client with the upload part size the chart chose."""

    def __init__(self, region: str):
        import boto3

        self.client = boto3.client("s3", region_name=region)

    def __getattr__(self, name):
        return getattr(self.client, name)

    def upload_file(self, path: str, bucket: str, key: str, chunk: int) -> None:
        from boto3.s3.transfer import TransferConfig

        config = TransferConfig(multipart_threshold=chunk, multipart_chunksize=chunk)
        self.client.upload_file(path, bucket, key, Config=config)


class _Hub:
    """huggingface_hub: list a commit's files with their sizes, download one at a time."""

    def __init__(self, token: str | None):
        from huggingface_hub import HfApi

        self.token = token or None
        self.api = HfApi(token=self.token)

    def files(self, source: str, revision: str) -> list[tuple[str, int | None]]:
        info = self.api.model_info(source, revision=revision, files_metadata=True)
        if info.sha != revision:
            raise MirrorError(f"Hugging Face answered commit {info.sha} for {source}@{revision}")
        return [(s.rfilename, s.size) for s in info.siblings or []]

    def download(self, source: str, name: str, revision: str, scratch: str) -> str:
        from huggingface_hub import hf_hub_download

        return hf_hub_download(source, name, revision=revision, local_dir=scratch, token=self.token)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in ("fill", "wait"):
        print("usage: weights_mirror.py fill|wait", file=sys.stderr)
        return 2
    env = dict(os.environ)
    try:
        s3 = _S3(env["AWS_REGION"])
        if argv[1] == "fill":
            fill(env, s3, _Hub(env.get("HF_TOKEN")))
        else:
            wait(env, s3)
    except MirrorError as err:
        print(f"weights mirror: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
