"""What `status` and `model ... --wait` read from the running vLLM objects, checked on the chart as helm renders it
for every case (tests/chart_render.py): the selector label, the container name, the revision annotation and
`--revision` argument (`cli.live.status.template_pin`) and the Service port name the proxy path uses. A chart
edit that renames one of them would leave the live commands blind; this fails first."""

from __future__ import annotations

import pytest

from cli.live import kube
from cli.live.status import template_pin
from infra.conventions import MODEL_REVISION_ANNOTATION, VLLM_CONTAINER_NAME, VLLM_PORT_NAME
from infra.pins import IMAGE_RE
from tests import chart_render as cr

CASES = cr.cases()


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_live_commands_find_the_pin_on_the_rendered_objects(case):
    case_id, spec, region, values = case
    objects = cr.render(values)
    deployment = cr.one(objects, "Deployment")
    service = cr.one(objects, "Service")
    key, value = kube.VLLM_SELECTOR.split("=")
    for obj in (deployment, service):
        assert obj["metadata"]["labels"][key] == value, f"{case_id}: {obj['kind']}"
    template = deployment["spec"]["template"]
    assert template["metadata"]["labels"][key] == value, case_id
    assert [c["name"] for c in template["spec"]["containers"]] == [VLLM_CONTAINER_NAME], case_id
    _, revision, image = spec.model_for(region)
    assert template["metadata"]["annotations"][MODEL_REVISION_ANNOTATION] == revision, case_id
    assert template_pin(template) == (revision, IMAGE_RE.match(image).group("digest")), case_id
    assert [p["name"] for p in service["spec"]["ports"]] == [VLLM_PORT_NAME], case_id
    assert service["metadata"]["name"] == deployment["metadata"]["name"], f"{case_id}: --wait proxies to the Deployment's name"
    # the weights-fill Job's pods are no vLLM pods: `status` must not count them (nor compare their image)
    for job in (o for o in objects if o["kind"] == "Job"):
        assert job["spec"]["template"]["metadata"]["labels"][key] != value, f"{case_id}: Job/{job['metadata']['name']}"
