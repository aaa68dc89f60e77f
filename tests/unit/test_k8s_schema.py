"""Every object of the rendered Kubernetes manifests (k8s/rendered/*.yaml) against the Kubernetes
1.31 OpenAPI schemas, in strict mode (unknown fields rejected), inside `make test`.

Uses the Python package kubernetes-validate (its JSON schemas are generated from the official
OpenAPI documents; `make k8s-check` feeds the same schemas to kubeconform, also for 1.37).
1.31 is the oldest Kubernetes the deployment claims (k8s/README.md: `podFailurePolicy` in the Jobs).

The ServiceMonitor (Prometheus Operator CRD) has no schema in the package: the test asserts that
the validator says so instead of skipping it silently, and its content is checked structurally by
tests/unit/test_k8s_manifests.py::test_metrics_service_annotations_and_service_monitor_point_at_the_metrics_port.
"""

from __future__ import annotations

import copy
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

RENDERED = Path(__file__).resolve().parents[2] / "k8s" / "rendered"
K8S_VERSION = "1.31"
NO_SCHEMA = {("monitoring.coreos.com/v1", "ServiceMonitor")}  # CRDs: checked structurally, see above


def _objects() -> list[tuple[str, dict]]:
    out = []
    for path in sorted(RENDERED.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                out.append((f"{path.name}:{doc['kind']}/{doc['metadata']['name']}", doc))
    return out


OBJECTS = _objects()


def _validate(obj: dict) -> str:
    return kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def test_the_renders_hold_the_expected_kinds():
    kinds = sorted({o["kind"] for _, o in OBJECTS})
    assert kinds == ["ConfigMap", "Job", "NetworkPolicy", "Service", "ServiceMonitor", "StatefulSet"]


@pytest.mark.parametrize("obj", [o for _, o in OBJECTS], ids=[i for i, _ in OBJECTS])
def test_every_rendered_object_is_valid_against_the_kubernetes_schema(obj):
    if (obj["apiVersion"], obj["kind"]) in NO_SCHEMA:
        with pytest.raises(kubernetes_validate.SchemaNotFoundError):
            _validate(obj)
        return
    assert _validate(obj) == K8S_VERSION  # the schema version actually used


def _statefulset() -> dict:
    (sts,) = [o for i, o in OBJECTS if i.startswith("example.yaml:StatefulSet/")]
    return copy.deepcopy(sts)


def test_the_validator_rejects_a_wrong_field_type():
    sts = _statefulset()
    sts["spec"]["replicas"] = "2"
    with pytest.raises(kubernetes_validate.ValidationError) as e:
        _validate(sts)
    assert list(e.value.path) == ["spec", "replicas"]


def test_strict_mode_rejects_an_unknown_field():
    sts = _statefulset()
    sts["spec"]["template"]["spec"]["containers"][0]["envv"] = []  # typo of `env`
    with pytest.raises(kubernetes_validate.ValidationError) as e:
        _validate(sts)
    assert "envv" in e.value.message
