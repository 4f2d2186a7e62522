"""A Helm release of a chart shaped like ingress-nginx's, rendered by the real `helm template`:
its values files and templates are checked through the release (one finding a cause, at
the values line that set the field, with the fix the values file's own reading gives),
and `--fix` re-renders from the fixed text, so that what it reports is what the next
run reports.

The chart copies the real chart's `range ... | quote` loop for `controller.config` and
its `--configmap=$(POD_NAMESPACE)/<release>-ingress-nginx-controller` flag.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import helm_binary
from helpers import INGRESS_NGINX_CONFIGMAP, settings_for, write_files

from tlslint.engine import RunResult, run
from tlslint.findings import Finding
from tlslint.fixing import apply_fixes
from tlslint.settings import Settings

CHART = "charts/ingress-nginx"
CONFIGMAP = INGRESS_NGINX_CONFIGMAP
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-ingress-nginx-controller
  namespace: {{ .Release.Namespace }}
  labels:
    app.kubernetes.io/name: ingress-nginx
    app.kubernetes.io/component: controller
spec:
  replicas: {{ .Values.controller.replicaCount }}
  selector:
    matchLabels: {app.kubernetes.io/name: ingress-nginx}
  template:
    metadata:
      labels: {app.kubernetes.io/name: ingress-nginx}
    spec:
      containers:
      - name: controller
        image: registry.k8s.io/ingress-nginx/controller:v1.15.1
        args:
        - /nginx-ingress-controller
        - --configmap=$(POD_NAMESPACE)/{{ .Release.Name }}-ingress-nginx-controller
"""
CHART_VALUES = """\
controller:
  name: controller
  replicaCount: 1
  config: {}
  ingressClassResource:
    name: nginx
  electionID: ""
  admissionWebhooks:
    enabled: false
"""
PROD = """\
controller:
  replicaCount: 3
  config:
    keep-alive: 0
    keep-alive-requests: 1000000
    ssl-session-tickets: "true"
"""
RELEASE = {"chart": CHART, "values": ["env/prod.yaml"], "namespace": "ingress-nginx"}


def chart(root: Path, values: str = CHART_VALUES, under: str = CHART) -> None:
    files = {
        "Chart.yaml": "apiVersion: v2\nname: ingress-nginx\nversion: 4.15.1\nappVersion: 1.15.1\n",
        "values.yaml": values,
        "templates/controller-configmap.yaml": CONFIGMAP,
        "templates/controller-deployment.yaml": DEPLOYMENT,
    }
    write_files(root, {f"{under}/{name}": text for name, text in files.items()})


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    helm_binary()
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    chart(root)
    write_files(root, {"env/prod.yaml": PROD})
    return root


def settings(root: Path, *releases: dict[str, Any]) -> Settings:
    return settings_for(root, {"helm": {"releases": list(releases or [RELEASE])}})


def places(result: RunResult, root: Path) -> list[tuple[str, str, int]]:
    return sorted(
        (f.code, f.location.path.resolve().relative_to(root.resolve()).as_posix(), f.location.line)
        for f in result.findings
    )


def one(result: RunResult, code: str) -> Finding:
    [found] = [f for f in result.findings if f.code == code]
    return found


def test_each_cause_is_reported_once_at_the_values_line_that_set_it(repo: Path) -> None:
    result = run([repo], settings(repo))
    assert places(result, repo) == [
        ("ING101", "env/prod.yaml", 4),
        ("ING102", "env/prod.yaml", 5),
        # Said once a run: at the rendered resource's template, not again at a values file.
        ("ING110", f"{CHART}/templates/controller-configmap.yaml", 1),
        ("ING111", "env/prod.yaml", 2),  # replicas: {{ .Values.controller.replicaCount }}
    ]
    # Said as the values file's reading says it (how Helm typed the value), with its fix,
    # and the release named.
    ing102 = one(result, "ING102")
    assert "reaches the ConfigMap as '1e+06'" in ing102.message
    assert ing102.message.endswith("[build: helm release ingress-nginx]")
    assert ing102.fix is not None and ing102.fix.edits[0].path.resolve() == (repo / "env/prod.yaml").resolve()
    assert one(result, "ING101").fix is not None
    # The templates were rendered: no "check the output of `helm template` instead".
    assert "GW001" not in [f.code for f in result.findings]


def test_fixing_reports_what_the_next_run_reports(repo: Path) -> None:
    config = settings(repo)
    outcome = apply_fixes(run([repo], config), config, unsafe=True, write=True)
    assert (repo / "env/prod.yaml").read_text() == PROD.replace("keep-alive: 0", "keep-alive: 75").replace(
        "keep-alive-requests: 1000000", 'keep-alive-requests: "1000000"'
    )
    assert not [m for m in outcome.messages if "appeared after a fix" in m]
    reported = places(outcome.result, repo)
    assert reported == places(run([repo], config), repo)  # a fresh run on the fixed files
    assert reported == [
        ("ING110", f"{CHART}/templates/controller-configmap.yaml", 1),
        ("ING111", "env/prod.yaml", 2),
    ]


def test_a_diff_reports_the_release_rendered_from_the_fixed_text(repo: Path) -> None:
    config = settings(repo)
    outcome = apply_fixes(run([repo], config), config, unsafe=True, write=False)
    assert (repo / "env/prod.yaml").read_text() == PROD  # nothing written
    assert "+    keep-alive: 75\n" in outcome.diff
    assert not [m for m in outcome.messages if "appeared after a fix" in m]
    assert [f.code for f in outcome.result.findings] == ["ING110", "ING111"]


def test_the_release_decides_what_a_values_file_alone_would_say(repo: Path) -> None:
    """base.yaml alone turns keep-alive off while HTTP/2 is on (ING101); the release
    also reads prod.yaml, which turns HTTP/2 off: nothing to say."""
    write_files(repo, {"env/base.yaml": "controller:\n  config:\n    keep-alive: 0\n"})
    write_files(repo, {"env/prod.yaml": 'controller:\n  config:\n    use-http2: "false"\n'})
    result = run([repo], settings(repo, {**RELEASE, "values": ["env/base.yaml", "env/prod.yaml"]}))
    assert places(result, repo) == [("ING110", f"{CHART}/templates/controller-configmap.yaml", 1)]


def test_the_last_values_file_that_sets_a_value_is_the_one_edited(repo: Path) -> None:
    write_files(repo, {"env/base.yaml": "controller:\n  config:\n    keep-alive: 0\n    use-http2: true\n"})
    write_files(repo, {"env/prod.yaml": "controller:\n  replicaCount: 2\n  config:\n    keep-alive: '0'\n"})
    config = settings(repo, {**RELEASE, "values": ["env/base.yaml", "env/prod.yaml"]})
    result = run([repo], config)
    assert ("ING101", "env/prod.yaml", 4) in places(result, repo)
    apply_fixes(result, config, unsafe=True, write=True)
    assert (repo / "env/prod.yaml").read_text().endswith("    keep-alive: '75'\n")
    assert "keep-alive: 0" in (repo / "env/base.yaml").read_text()  # overridden: left alone
    assert "ING101" not in [f.code for f in run([repo], config).findings]


def test_a_values_file_outside_the_paths_given_is_named_not_called_a_symlink(repo: Path) -> None:
    """The fix edits the release's other values file, outside the directory given: SRC002
    says so and how to mend it (it said "a symlink leads to", with no symlink)."""
    write_files(repo, {"other/prod.yaml": "controller:\n  config:\n    keep-alive: 0\n"})
    write_files(repo, {"env/prod.yaml": "controller:\n  replicaCount: 1\n"})
    config = settings(repo, {**RELEASE, "values": ["env/prod.yaml", "other/prod.yaml"]})
    given = repo / "env/prod.yaml"  # as a pre-commit hook names it
    outcome = apply_fixes(run([given], config), config, unsafe=True, write=True, paths=[given])
    [(path, reason)] = outcome.unwritten
    assert path.resolve() == (repo / "other/prod.yaml").resolve()
    assert "outside the paths given" in reason and reason.endswith("name it too")
    assert "symlink" not in reason
    assert "keep-alive: 0" in (repo / "other/prod.yaml").read_text()


def test_a_chart_default_is_reported_at_the_charts_values_without_a_fix(repo: Path) -> None:
    chart(repo, CHART_VALUES.replace("config: {}", "config:\n    keep-alive: 0"))
    write_files(repo, {"env/prod.yaml": "controller:\n  replicaCount: 1\n"})
    result = run([repo], settings(repo))
    ing101 = one(result, "ING101")
    assert (ing101.location.path.resolve(), ing101.location.line) == (
        (repo / CHART / "values.yaml").resolve(),
        5,
    )
    # The chart's default is every release's: the note says to override it (kubernetes.md).
    assert ing101.fix is None
    assert "is the chart's default" in ing101.fix_note and "override the value in" in ing101.fix_note
    assert ing101.fix_note.endswith("prod.yaml")  # the release's values file
    assert "edit the file it points to" not in ing101.fix_note


def test_a_subchart_under_an_alias_is_traced_to_the_parents_values(tmp_path: Path) -> None:
    """Helm renders an aliased dependency as `edge/charts/ingress/templates/...`, its
    values under `ingress:`, from the directory of its name."""
    helm_binary()
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    chart(root, under="edge/charts/ingress-nginx")
    write_files(root, {
        "edge/Chart.yaml": "apiVersion: v2\nname: edge\nversion: 0.1.0\ndependencies:\n"
        "  - name: ingress-nginx\n    version: 4.15.1\n    alias: ingress\n",
        "edge/values.yaml": "ingress:\n  controller:\n    replicaCount: 2\n",
        "prod.yaml": 'ingress:\n  controller:\n    config:\n      keep-alive: "0"\n'
        '      ssl-session-tickets: "true"\n',
    })  # fmt: skip
    result = run([root], settings(root, {"chart": "edge", "values": ["prod.yaml"]}))
    assert places(result, root) == [
        ("ING101", "prod.yaml", 4),
        ("ING110", "edge/charts/ingress-nginx/templates/controller-configmap.yaml", 1),
        ("ING111", "edge/values.yaml", 3),
    ]


def test_a_value_given_by_set_stays_at_its_template(repo: Path) -> None:
    write_files(repo, {"env/prod.yaml": "controller:\n  config:\n    keep-alive: 0\n"})
    result = run([repo], settings(repo, {**RELEASE, "set": {"controller.config.keep-alive": 0}}))
    ing101 = one(result, "ING101")
    # --set wins over the file: the template's data: line, not env/prod.yaml.
    assert ing101.location.path.name == "controller-configmap.yaml" and ing101.location.line == 9


def test_without_helm_the_values_file_is_checked_on_its_own(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(repo / "no-binaries-here"))
    result = run([repo], settings(repo))
    assert "RND002" in [f.code for f in result.findings]
    assert ("ING101", "env/prod.yaml", 4) in places(result, repo)


def test_the_retirement_notice_is_said_once_with_the_release_and_other_files(repo: Path) -> None:
    write_files(repo, {
        "apps/shop-ingress.yaml": "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n"
        "  name: shop\n  annotations:\n    nginx.ingress.kubernetes.io/proxy-body-size: 8m\n",
    })  # fmt: skip
    result = run([repo], settings(repo))
    assert [f.location.path.name for f in result.findings if f.code == "ING110"] == ["shop-ingress.yaml"]
