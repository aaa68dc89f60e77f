#!/usr/bin/env python3
"""`make k8s-check`: render the manifests with kustomize and validate them offline with kubeconform.

1. Installs pinned tools once into ~/.cache/tidb2mysql/k8s-tools/bin with the Go toolchain
   (`go install`, from the Go module proxy): kustomize KUSTOMIZE_VERSION, kubeconform KUBECONFORM_VERSION.
2. Kubernetes JSON schemas, offline: kubeconform downloads its schemas from GitHub by default,
   which this machine (and CI) cannot reach. The PyPI package kubernetes-validate ships the
   schemas of every Kubernetes release (`<version>-local-strict/*.json`, generated from the
   official OpenAPI documents). Its wheel is downloaded once with pip and the schemas of the kinds
   we render are rewritten into kubeconform's "standalone" form (every `$ref` into
   `_definitions.json` inlined; kubeconform cannot follow those absolute refs).
3. Renders every kustomization (the example overlay, its Jobs, and the overlay with the
   ServiceMonitor component) and compares them with the committed renders in k8s/rendered/,
   which the unit test tests/unit/test_k8s_manifests.py reads. `--write` updates them.
4. `kubeconform -strict` on every render, for the oldest and the newest Kubernetes we claim
   (K8S_VERSIONS). The ServiceMonitor is a CRD without a schema here: it is skipped by
   kubeconform and checked by the unit test instead.

Not part of `make test` (it builds two Go programs the first time, ~2 min).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

K8S = Path(__file__).resolve().parent
REPO = K8S.parent
TOOLS = Path(os.environ.get("T2M_K8S_TOOLS", Path.home() / ".cache" / "tidb2mysql" / "k8s-tools"))
KUSTOMIZE_VERSION = "v5.8.1"
KUBECONFORM_VERSION = "v0.8.0"
KUBERNETES_VALIDATE_VERSION = "1.37.0"
K8S_VERSIONS = ("1.31.0", "1.37.0")  # podFailurePolicy (Jobs) is GA since 1.31

# name of the render in k8s/rendered/ -> kustomization directory (relative to k8s/)
RENDERS = {
    "example.yaml": "overlays/example",
    "example-jobs.yaml": "overlays/example/jobs",
    "example-prometheus-operator.yaml": "overlays/example-prometheus-operator",
}


def log(msg: str) -> None:
    print(f"k8s-check: {msg}", file=sys.stderr, flush=True)


def tool(name: str, module: str, version: str) -> Path:
    exe = TOOLS / "bin" / name
    stamp = TOOLS / "bin" / f".{name}.version"
    if exe.exists() and stamp.exists() and stamp.read_text().strip() == version:
        return exe
    if not shutil.which("go"):
        sys.exit(f"k8s-check: {name} {version} is not installed and there is no `go` to build it")
    log(f"go install {module}@{version}")
    env = dict(os.environ, GOBIN=str(TOOLS / "bin"))
    subprocess.run(["go", "install", f"{module}@{version}"], check=True, env=env, cwd=tempfile.gettempdir())
    stamp.write_text(version + "\n")
    return exe


def schemas(kinds: set[str]) -> Path:
    """Standalone strict schemas for ``kinds`` (file stems like ``statefulset-apps-v1``)."""
    wheel = TOOLS / f"kubernetes_validate-{KUBERNETES_VALIDATE_VERSION}-py3-none-any.whl"
    if not wheel.exists():
        log(f"pip download kubernetes-validate=={KUBERNETES_VALIDATE_VERSION} (for its schemas)")
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(TOOLS),
                        f"kubernetes-validate=={KUBERNETES_VALIDATE_VERSION}"], check=True)
    out = TOOLS / "schemas" / KUBERNETES_VALIDATE_VERSION
    with zipfile.ZipFile(wheel) as z:
        for v in K8S_VERSIONS:
            src = f"kubernetes_validate/kubernetes-json-schema/v{v}-local-strict/"
            dst = out / f"v{v}-standalone-strict"
            dst.mkdir(parents=True, exist_ok=True)
            defs = None
            for kind in sorted(kinds):
                target = dst / f"{kind}.json"
                if target.exists():
                    continue
                if defs is None:
                    defs = json.loads(z.read(src + "_definitions.json"))["$defs"]
                schema = json.loads(z.read(src + f"{kind}.json"))
                schema.pop("$id", None)
                schema.pop("$schema", None)
                target.write_text(json.dumps(_inline(schema, defs)))
    return out


def _inline(x, defs, stack=()):
    """Replace every ``{"$ref": ".../_definitions.json#/$defs/NAME"}`` by that definition."""
    if isinstance(x, dict):
        if "$ref" in x:
            name = x["$ref"].split("/$defs/")[-1]
            out = {k: _inline(v, defs, stack) for k, v in x.items() if k != "$ref"}
            if name not in stack:  # recursive types (CRD JSONSchemaProps) are not ours
                out.update(_inline(defs[name], defs, stack + (name,)))
            return out
        return {k: _inline(v, defs, stack) for k, v in x.items()}
    if isinstance(x, list):
        return [_inline(v, defs, stack) for v in x]
    return x


def render(kustomize: Path, directory: Path) -> str:
    r = subprocess.run([str(kustomize), "build", str(directory)], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"k8s-check: kustomize build {directory.relative_to(REPO)} failed:\n{r.stderr}")
    return r.stdout


def kinds_of(text: str) -> set[str]:
    """kubeconform's file stems (``statefulset-apps-v1``, ``service-v1``) of the rendered objects."""
    out, api = set(), None
    for line in text.splitlines():
        if line.startswith("apiVersion:"):
            api = line.split(":", 1)[1].strip()
        elif line.startswith("kind:") and api:
            kind = line.split(":", 1)[1].strip().lower()
            group, _, version = api.rpartition("/")
            group = group.split(".")[0]
            if group != "monitoring":
                out.add(f"{kind}-{group}-{version}" if group else f"{kind}-{version}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="update the committed renders in k8s/rendered/")
    args = ap.parse_args()
    kustomize = tool("kustomize", "sigs.k8s.io/kustomize/kustomize/v5", KUSTOMIZE_VERSION)
    kubeconform = tool("kubeconform", "github.com/yannh/kubeconform/cmd/kubeconform", KUBECONFORM_VERSION)
    log(f"kustomize {KUSTOMIZE_VERSION}, kubeconform {KUBECONFORM_VERSION}, schemas from kubernetes-validate"
        f" {KUBERNETES_VALIDATE_VERSION} for Kubernetes {', '.join(K8S_VERSIONS)}")

    rendered: dict[str, str] = {name: render(kustomize, K8S / d) for name, d in RENDERS.items()}

    failed = False
    rdir = K8S / "rendered"
    for name, text in rendered.items():
        path = rdir / name
        if args.write:
            rdir.mkdir(exist_ok=True)
            path.write_text(text)
            log(f"wrote {path.relative_to(REPO)}")
        elif not path.exists() or path.read_text() != text:
            failed = True
            old = path.read_text().splitlines(keepends=True) if path.exists() else []
            sys.stderr.writelines(difflib.unified_diff(old, text.splitlines(keepends=True),
                                                       str(path.relative_to(REPO)), "kustomize build"))
            log(f"{path.relative_to(REPO)} is stale: run `{Path(sys.executable).name} k8s/check.py --write`")

    kinds = set().union(*(kinds_of(t) for t in rendered.values()))
    sdir = schemas(kinds)
    location = str(sdir / "{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}"
                   / "{{ .ResourceKind }}{{ .KindSuffix }}.json")
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for name, text in rendered.items():
            (Path(tmp) / name).write_text(text)
            files.append(str(Path(tmp) / name))
        for v in K8S_VERSIONS:
            r = subprocess.run([str(kubeconform), "-strict", "-summary", "-output", "text", "-kubernetes-version", v,
                                "-schema-location", location, "-skip", "ServiceMonitor", *files],
                               capture_output=True, text=True)
            print(f"kubeconform (Kubernetes {v}): " + (r.stdout + r.stderr).strip().replace(tmp + "/", ""))
            failed |= r.returncode != 0
    log("FAILED" if failed else "OK: renders up to date, every object valid")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
