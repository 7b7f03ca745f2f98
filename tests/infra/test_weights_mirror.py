"""The in-region weights mirror: the plan (when, where), the program's bucket and roles under mocks, the
chart's fill Job / init container / model path rendered by real helm, and the fill/wait script itself
run against stand-in S3 and Hugging Face clients."""

from __future__ import annotations

import copy
import importlib.util
import io
import json
import pathlib

import pytest

from infra import chart_values
from infra import weights_mirror_plan as plan
from infra.components.weights_mirror import bucket_prefix
from infra.spec import SpecError, parse_stack_config, project_config
from tests import chart_render as cr
from tests.paths import ROOT

MIRRORED = [c for c in cr.cases() if c[3]["weightsMirror"]["enabled"]]
OTHER_REVISION = "1" * 40


# ---------------------------------------------------------------- the plan


def test_auto_mirrors_large_weights_only_and_the_key_overrides_it():
    assert plan.mirror_enabled("auto", 141.2e9) and plan.mirror_enabled("auto", 20e9)
    assert not plan.mirror_enabled("auto", 16.06e9) and not plan.mirror_enabled("auto", None)
    assert plan.mirror_enabled(True, 1e9) and not plan.mirror_enabled(False, 141.2e9)


def test_shipped_stacks_mirror_the_70b_and_not_the_8b():
    assert [r.region for case_id, _, r, _ in MIRRORED if case_id.startswith("prod-global")] == [
        "us-east-1", "eu-central-1", "ap-northeast-1"]
    for stack in ("dev", "prod-us"):
        spec = cr.stack(stack)
        assert not any(spec.weights_mirror_for(r) for r in spec.regions), stack


def test_weights_mirror_key_takes_true_false_auto_and_names_a_bad_value():
    config = project_config(__import__("yaml").safe_load((ROOT / "stacks" / "Pulumi.prod-global.yaml").read_text()))
    for value, expected in (("auto", True), (False, False), (True, True)):
        spec = parse_stack_config({**config, "model": {**config["model"], "weightsMirror": value}})
        assert spec.weights_mirror_for(spec.regions[0]) is expected
    with pytest.raises(SpecError) as err:
        parse_stack_config({**config, "model": {**config["model"], "weightsMirror": "sometimes"}})
    assert [p.path for p in err.value.problems] == ["model.weightsMirror"], err.value.problems


def test_the_path_and_the_marker_hold_the_revision():
    a = plan.model_uri("b", "meta-llama/Llama-3.3-70B-Instruct", "a" * 40)
    b = plan.model_uri("b", "meta-llama/Llama-3.3-70B-Instruct", "b" * 40)
    assert a == "s3://b/meta-llama/Llama-3.3-70B-Instruct/" + "a" * 40 and a != b
    marker = plan.marker_key("meta-llama/Llama-3.3-70B-Instruct", "a" * 40)
    assert marker.endswith("a" * 40 + ".json") and not marker.startswith(plan.object_prefix("meta-llama/x", "a" * 40))


def test_bucket_prefix_fits_s3s_37_characters():
    assert bucket_prefix("prod-global", "apne1") == "prod-global-apne1-weights-"
    long = bucket_prefix("A_very_long_Stack_Name_for_a_team", "usgovw1")
    assert len(long) <= 37 and long.endswith("-usgovw1-weights-") and long == long.lower()


def test_policies_read_only_for_pods_no_delete_for_the_fill_and_tls_only():
    bucket, key = "arn:aws:s3:::b", "arn:aws:kms:us-east-1:123456789012:key/k"
    reader = [a for s in plan.reader_policy(bucket, key)["Statement"] for a in s["Action"]]
    assert sorted(reader) == ["kms:Decrypt", "s3:GetObject", "s3:ListBucket"]
    writer = [a for s in plan.writer_policy(bucket, key)["Statement"] for a in s["Action"]]
    assert "s3:PutObject" in writer and not any("Delete" in a for a in writer)
    deny = plan.bucket_policy(bucket)["Statement"][0]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == [bucket, bucket + "/*"]


# ---------------------------------------------------------------- the program under mocks


def test_prod_global_has_a_private_encrypted_bucket_and_two_scoped_roles_per_region(inventory_of):
    inv = inventory_of("prod-global")
    buckets = inv.of_type("aws:s3/bucket:Bucket")
    assert sorted(b.region for b in buckets) == ["ap-northeast-1", "eu-central-1", "us-east-1"]
    for b in buckets:
        prefix = b.name.removesuffix("-weights-bucket")
        assert b.inputs["bucketPrefix"] == f"prod-global-{prefix}-weights-"
        assert b.inputs["tags"][plan.PURPOSE_TAG_KEY] == plan.PURPOSE_TAG_VALUE
        block = inv.named(f"{prefix}-weights-public-access").inputs
        assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                              "restrictPublicBuckets"))
        rule = inv.named(f"{prefix}-weights-encryption").inputs["rules"][0]
        key = inv.named(f"{prefix}-weights-key")
        assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
        assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"].startswith("arn:aws:kms:")
        assert rule["bucketKeyEnabled"] is True and key.inputs["enableKeyRotation"] is True
        assert inv.named(f"{prefix}-weights-ownership").inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
        policy = json.loads(inv.named(f"{prefix}-weights-policy").inputs["policy"])
        assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for role, account in zip(("reader", "writer"), chart_values.weights_service_accounts(f"{prefix}-vllm")):
            trust = json.loads(inv.named(f"{prefix}-weights-{role}").inputs["assumeRolePolicy"])
            subjects = [v for s in trust["Statement"] for k, v in s["Condition"]["StringEquals"].items()
                        if k.endswith(":sub")]
            assert subjects == [f"system:serviceaccount:vllm:{account}"], (prefix, role)
            # the chart renders that very service account, annotated with this role
            rendered = [a for a in inv.of_type("kubernetes:core/v1:ServiceAccount") if a.inputs["metadata"]["name"] == account]
            assert len(rendered) == 1 and rendered[0].region == b.region, (prefix, role)
            arn = rendered[0].inputs["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
            assert f":role/{prefix}-weights-{role}-" in arn, (prefix, role, arn)
        reader = json.loads(inv.named(f"{prefix}-weights-reader-policy").inputs["policy"])
        assert {a for s in reader["Statement"] for a in s["Action"]} == {"s3:ListBucket", "s3:GetObject", "kms:Decrypt"}


def test_the_deployment_loads_the_pinned_revision_from_its_regions_bucket(inventory_of):
    """Before the mirror, prod-global's pods ran --model=meta-llama/... (Hugging Face through NAT)."""
    inv = inventory_of("prod-global")
    spec = cr.stack("prod-global")
    deployments = inv.of_type("kubernetes:apps/v1:Deployment")
    assert len(deployments) == 3
    for d in deployments:
        bucket = next(b for b in inv.of_type("aws:s3/bucket:Bucket") if b.region == d.region)
        args = d.inputs["spec"]["template"]["spec"]["containers"][0]["args"]
        uri = f"s3://{bucket.inputs['bucketPrefix']}"
        model = next(a for a in args if a.startswith("--model="))
        assert model.startswith(f"--model={uri}") and model.endswith(f"/{spec.model.source}/{spec.model.revision}"), model
        assert "--load-format=runai_streamer" in args and f"--served-model-name={spec.model.name}" in args
    paths = inv.outputs["modelPaths"]
    assert all(p.startswith("s3://prod-global-") and p.endswith(spec.model.revision) for p in paths.values()), paths


def test_small_models_keep_hugging_face_and_make_no_bucket(inventory_of):
    inv = inventory_of("prod-us")
    assert not inv.of_type("aws:s3/bucket:Bucket") and not inv.of_type("batch/v1:Job")
    spec = cr.stack("prod-us")
    assert set(inv.outputs["modelPaths"].values()) == {f"{spec.model.source}@{spec.model.revision}"}


# ---------------------------------------------------------------- the chart


@pytest.mark.parametrize("case_id", [c[0] for c in MIRRORED])
def test_pods_wait_for_this_revisions_marker_which_the_fill_job_writes(case_id):
    _, spec, region, values = next(c for c in MIRRORED if c[0] == case_id)
    source, revision, image = spec.model_for(region)
    objects = cr.render(values)
    mirror = values["weightsMirror"]
    deployment, job = cr.one(objects, "Deployment"), cr.one(objects, "Job")
    pod, job_pod = deployment["spec"]["template"]["spec"], job["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == mirror["reader"]["serviceAccountName"]
    assert job_pod["serviceAccountName"] == mirror["fill"]["serviceAccountName"]
    accounts = {a["metadata"]["name"]: a for a in cr.by_kind(objects, "ServiceAccount")}
    assert accounts[mirror["reader"]["serviceAccountName"]]["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": mirror["reader"]["roleArn"]}
    assert accounts[mirror["fill"]["serviceAccountName"]]["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": mirror["fill"]["roleArn"]}
    (init,) = pod["initContainers"]
    (fill,) = job_pod["containers"]
    assert init["command"][-1] == "wait" and fill["command"][-1] == "fill"
    assert init["image"] == fill["image"] == image
    env = lambda c: {e["name"]: e.get("value") for e in c["env"]}  # noqa: E731
    shared = {"SOURCE": source, "REVISION": revision, "BUCKET": mirror["bucket"], "AWS_REGION": region.region,
              "PREFIX": f"{source}/{revision}", "MARKER_KEY": plan.marker_key(source, revision)}
    assert shared.items() <= env(init).items() and shared.items() <= env(fill).items()
    assert revision[:12] in job["metadata"]["name"] and len(job["metadata"]["name"]) <= 63
    assert job_pod["nodeSelector"] == {"tradeoff-infra.io/workload": "system"} and job_pod["restartPolicy"] == "Never"
    # a fill pod is never a vLLM endpoint: its labels do not match the Service's selector
    selector = cr.one(objects, "Service")["spec"]["selector"]
    assert not selector.items() <= job["spec"]["template"]["metadata"]["labels"].items()
    # only the fill Job holds the Hugging Face token; the pods never reach Hugging Face
    containers = pod["containers"][0]
    assert "HF_TOKEN" not in env(containers)
    assert ("HF_TOKEN" in {e["name"] for e in fill["env"]}) == bool(values["huggingfaceToken"]["secretName"])
    script = cr.one([o for o in objects if o["kind"] == "ConfigMap" and "weights" in o["metadata"]["name"]], "ConfigMap")
    assert script["data"]["weights_mirror.py"] == (cr.CHART / "files" / "weights_mirror.py").read_text().rstrip("\n")


@pytest.mark.parametrize("case_id", [c[0] for c in MIRRORED])
def test_a_failed_fill_job_is_replaced_on_the_next_up(case_id):
    """A fill Job that failed (deadline, Hugging Face outage, bad token) keeps its name and spec, so without
    `pulumi.com/replaceUnready` the next `pulumi up` finds no diff, re-awaits the failed Job and fails again,
    while the pods' init container waits for the marker forever. With it, pulumi-kubernetes replaces a Job
    that is not complete (provider/pkg/provider/provider.go Diff, `metadata.ReplaceUnready`)."""
    _, _, _, values = next(c for c in MIRRORED if c[0] == case_id)
    job = cr.one(cr.render(values), "Job")
    assert job["metadata"]["annotations"].get(chart_values.PULUMI_REPLACE_UNREADY_ANNOTATION) == "true"
    assert chart_values.PULUMI_REPLACE_UNREADY_ANNOTATION == "pulumi.com/replaceUnready"


def test_a_new_pin_and_a_rollback_change_path_job_and_marker_together():
    _, spec, region, values = MIRRORED[0]
    pinned = spec.model_copy(update={"model": spec.model.model_copy(update={"revision": OTHER_REVISION})})
    other = chart_values.vllm_values(pinned, region, prometheus_url=cr.PROMETHEUS_URL, gpu_hourly_price_usd=None,
                                     weights_mirror=cr.mirror_outputs(region))
    before, after = cr.render(values), cr.render(other)
    arg = lambda objs: next(a for a in cr.one(objs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]  # noqa: E731
                            if a.startswith("--model="))
    assert arg(after).endswith(OTHER_REVISION) and arg(before).endswith(spec.model.revision)
    assert cr.one(before, "Job")["metadata"]["name"] != cr.one(after, "Job")["metadata"]["name"]
    assert other["weightsMirror"]["markerKey"] != values["weightsMirror"]["markerKey"]
    # rolling back renders exactly the objects of the first pin again
    back = chart_values.vllm_values(spec, region, prometheus_url=cr.PROMETHEUS_URL, gpu_hourly_price_usd=None,
                                    weights_mirror=cr.mirror_outputs(region))
    assert cr.render(back) == cr.render(chart_values.vllm_values(
        spec, region, prometheus_url=cr.PROMETHEUS_URL, gpu_hourly_price_usd=None, weights_mirror=cr.mirror_outputs(region)))


def test_chart_values_need_the_mirror_outputs_when_the_region_mirrors():
    _, spec, region, _ = MIRRORED[0]
    with pytest.raises(ValueError, match="weightsMirror"):
        chart_values.vllm_values(spec, region, prometheus_url=cr.PROMETHEUS_URL, gpu_hourly_price_usd=None)


def test_schema_refuses_a_mirror_without_its_bucket_or_role():
    values = copy.deepcopy(MIRRORED[0][3])
    values["weightsMirror"]["reader"]["roleArn"] = ""
    assert "roleArn" in cr.render_error(values)
    values = copy.deepcopy(MIRRORED[0][3])
    values["weightsMirror"]["modelUri"] = "s3://bucket/meta-llama/Llama-3.3-70B-Instruct/main"
    assert "modelUri" in cr.render_error(values)


# ---------------------------------------------------------------- the fill / wait script


def _script():
    spec = importlib.util.spec_from_file_location("weights_mirror_script", cr.CHART / "files" / "weights_mirror.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Missing(Exception):
    response = {"Error": {"Code": "NoSuchKey"}}


class FakeS3:
    def __init__(self, objects: dict[str, bytes] | None = None):
        self.objects = dict(objects or {})
        self.writes: list[str] = []

    def get_object(self, Bucket, Key):
        if Key not in self.objects:
            raise Missing(Key)
        return {"Body": io.BytesIO(self.objects[Key])}

    def head_object(self, Bucket, Key):
        if Key not in self.objects:
            raise Missing(Key)
        return {"ContentLength": len(self.objects[Key])}

    def upload_file(self, path, bucket, key, chunk):
        self.objects[key] = pathlib.Path(path).read_bytes()
        self.writes.append(key)

    def put_object(self, Bucket, Key, Body, ContentType):
        self.objects[Key] = Body
        self.writes.append(Key)


class FakeHub:
    def __init__(self, files: dict[str, bytes]):
        self.content = files
        self.downloads: list[str] = []

    def files(self, source, revision):
        return [(name, len(data)) for name, data in self.content.items()]

    def download(self, source, name, revision, scratch):
        self.downloads.append(name)
        path = pathlib.Path(scratch) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.content[name])
        return str(path)


SOURCE, REVISION = "meta-llama/Llama-3.3-70B-Instruct", "6f6073b423013f6a7d4d9f39144961bfbfbc386b"
REPO = {"config.json": b"{}", "tokenizer.json": b"tok", "model-00001-of-00002.safetensors": b"w" * 10,
        "model-00002-of-00002.safetensors": b"v" * 7, "original/consolidated.00.pth": b"x" * 20}


def _env(tmp_path) -> dict:
    return {"SOURCE": SOURCE, "REVISION": REVISION, "BUCKET": "b", "PREFIX": f"{SOURCE}/{REVISION}",
            "MARKER_KEY": plan.marker_key(SOURCE, REVISION), "SCRATCH": str(tmp_path),
            "SKIP_PATTERNS": ",".join(plan.SKIPPED_PATTERNS), "POLL_SECONDS": "1"}


def test_fill_copies_the_revision_then_writes_the_marker_last(tmp_path):
    script, s3, hub = _script(), FakeS3(), FakeHub(REPO)
    assert script.fill(_env(tmp_path), s3, hub, log=lambda _: None) == "filled"
    prefix = f"{SOURCE}/{REVISION}"
    assert sorted(s3.writes[:-1]) == sorted(f"{prefix}/{n}" for n in REPO if not n.startswith("original/"))
    assert s3.writes[-1] == plan.marker_key(SOURCE, REVISION)
    marker = json.loads(s3.objects[s3.writes[-1]])
    assert (marker["source"], marker["revision"], len(marker["files"])) == (SOURCE, REVISION, 4)
    assert not list(tmp_path.rglob("*.safetensors")), "scratch keeps no file after its upload"


def test_fill_is_idempotent_and_resumes(tmp_path):
    script = _script()
    s3 = FakeS3()
    script.fill(_env(tmp_path), s3, FakeHub(REPO), log=lambda _: None)
    again = FakeHub(REPO)
    writes = len(s3.writes)
    assert script.fill(_env(tmp_path), s3, again, log=lambda _: None) == "skipped"
    assert again.downloads == [] and len(s3.writes) == writes
    # a fill that died after one shard: the next run uploads only what is missing
    prefix = f"{SOURCE}/{REVISION}"
    partial = FakeS3({f"{prefix}/model-00001-of-00002.safetensors": REPO["model-00001-of-00002.safetensors"]})
    hub = FakeHub(REPO)
    script.fill(_env(tmp_path), partial, hub, log=lambda _: None)
    assert "model-00001-of-00002.safetensors" not in hub.downloads and "model-00002-of-00002.safetensors" in hub.downloads


def test_fill_and_wait_refuse_another_revisions_marker(tmp_path):
    script = _script()
    wrong = json.dumps({"source": SOURCE, "revision": OTHER_REVISION}).encode()
    s3 = FakeS3({plan.marker_key(SOURCE, REVISION): wrong})
    with pytest.raises(script.MirrorError, match=OTHER_REVISION):
        script.fill(_env(tmp_path), s3, FakeHub(REPO), log=lambda _: None)
    with pytest.raises(script.MirrorError, match=OTHER_REVISION):
        script.wait(_env(tmp_path), s3, sleep=lambda _: None, log=lambda _: None, attempts=3)


def test_wait_blocks_until_the_marker_appears(tmp_path):
    script, s3 = _script(), FakeS3()
    polls = []

    def sleep(seconds):
        polls.append(seconds)
        if len(polls) == 2:
            s3.objects[plan.marker_key(SOURCE, REVISION)] = json.dumps({"source": SOURCE, "revision": REVISION}).encode()

    script.wait(_env(tmp_path), s3, sleep=sleep, log=lambda _: None)
    assert polls == [1.0, 1.0]
    with pytest.raises(script.MirrorError, match="no marker"):
        script.wait(_env(tmp_path), FakeS3(), sleep=lambda _: None, log=lambda _: None, attempts=2)


def test_fill_refuses_a_repository_without_safetensors(tmp_path):
    script = _script()
    with pytest.raises(script.MirrorError, match="safetensors"):
        script.fill(_env(tmp_path), FakeS3(), FakeHub({"config.json": b"{}", "pytorch_model.bin": b"b"}), log=lambda _: None)


# ---------------------------------------------------------------- the estimate


def _priced(with_mirror: bool, usage=None):
    from decimal import Decimal  # noqa: F401  (Decimal arithmetic below)

    from cli import estimate as est
    from infra.price_catalog import default_catalog
    from tests.builders import AS_OF, Res, resources, spec_of

    spec = spec_of(requests=15_000_000)  # an 8B model (16 GB): the weights size comes from the spec; the day's
    # peak starts a second node, so node starts read the weights
    res = resources()
    if with_mirror:
        tags = {plan.PURPOSE_TAG_KEY: plan.PURPOSE_TAG_VALUE}
        res += [Res("aws:s3/bucket:Bucket", "mirror", {"bucketPrefix": "t-use1-weights-", "tags": tags}),
                Res("aws:kms/key:Key", "mirror-key", {"tags": tags}),
                Res("aws:s3/bucketPolicy:BucketPolicy", "mirror-policy", {})]
    return spec, est.estimate("t", "t.yaml", spec, res, default_catalog(), [], as_of=AS_OF, api_source="test",
                              **({"usage": usage} if usage else {}))


def test_a_mirror_takes_the_weights_out_of_every_node_starts_nat_traffic():
    from decimal import Decimal

    spec, without = _priced(False)
    _, with_ = _priced(True)
    weights_gb = Decimal(str(spec.weight_bytes() / 1e9))
    nat = lambda r, what: [li for li in r.line_items if li.resource == "nat" and li.unit == "GB" and what in li.description]  # noqa: E731
    (old,) = nat(without, "node starts")
    (new,) = nat(with_, "node starts")
    starts = old.quantity / (weights_gb + Decimal(10))
    assert new.quantity == starts * 10 and "weights from the in-region mirror" in new.description
    (fill,) = nat(with_, "fills")
    assert fill.quantity == weights_gb + 10 and fill.unit_price == Decimal("0.045")  # once per revision, 1 a month


def test_the_mirror_prices_its_storage_fills_reads_and_key_from_the_catalog():
    from decimal import Decimal

    from infra.price_catalog import default_catalog

    spec, r = _priced(True)
    weights = spec.weight_bytes()
    gb = Decimal(str(weights / 1e9))
    platform = default_catalog().data["platform"]["default"]
    lines = {(li.unit, li.description.split(":")[0]): li for li in r.line_items if li.resource in ("mirror", "mirror-key")}
    storage = lines[("GB-months", "weights mirror")]
    assert storage.quantity == 2 * gb and storage.unit_price == Decimal(platform["s3StandardGbMonth"]["usd"])
    puts = lines[("1k requests", "weights mirror fills")]
    assert puts.quantity == Decimal(plan.fill_put_requests(weights)) / 1000
    assert puts.unit_price == Decimal(platform["s3PutPer1000"]["usd"])
    gets = lines[("1k requests", "weights mirror reads")]
    assert gets.unit_price == Decimal(platform["s3GetPer1000"]["usd"]) and gets.quantity > 0
    key = lines[("key-months", "KMS customer managed key (weights mirror)")]
    assert key.monthly == Decimal("1.00") and key.category == "storage"
    assert not r.unpriced


def test_revisions_kept_and_pins_per_month_are_usage_keys():
    from decimal import Decimal

    from cli import estimate as est

    spec, r = _priced(True, est.usage_from({"weightsRevisionsKept": 3, "weightsPinsPerMonth": 0.5}))
    gb = Decimal(str(spec.weight_bytes() / 1e9))
    storage = next(li for li in r.line_items if li.unit == "GB-months" and li.resource == "mirror")
    fill = next(li for li in r.line_items if "fills" in li.description and li.unit == "GB")
    assert storage.quantity == 3 * gb and fill.quantity == Decimal("0.5") * (gb + 10)
    with pytest.raises(ValueError, match="weightsPinsPerMonth"):
        est.usage_from({"weightsPinsPerMonth": -1})
