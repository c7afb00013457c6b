"""Release hygiene that a test can keep true: one version, one set of links, licenses everywhere, the matrix stated.

The built artifacts (license files and ``py.typed`` in the wheels, no tests, Airflow's Providers page reading the
documentation link) are checked by ``scripts/dev.py release-check`` on the installed wheels.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10 (the minimum-Airflow leg collects this file too); pytest brings tomli there
    import tomli as tomllib

from airflow_provider_flyte.version import __version__

ROOT = Path(__file__).resolve().parent.parent
SANDBOX = ROOT / "flyte-admin-sandbox"
SUPPORTED_PYTHONS = ("3.10", "3.11", "3.12", "3.13")


def _project(path: Path) -> dict[str, object]:
    project = tomllib.loads(path.read_text())["project"]
    assert isinstance(project, dict)
    return project


def test_the_version_is_written_once_and_pinned_alike() -> None:
    provider, sandbox = _project(ROOT / "pyproject.toml"), _project(SANDBOX / "pyproject.toml")
    assert provider["dynamic"] == sandbox["dynamic"] == ["version"]
    sandbox_version = re.search(r'__version__ = "(.+)"', (SANDBOX / "flyte_admin_sandbox" / "version.py").read_text())
    assert sandbox_version is not None
    assert sandbox_version.group(1) == __version__
    extras = provider["optional-dependencies"]
    assert isinstance(extras, dict)
    assert extras["sandbox"] == [f"flyte-admin-sandbox=={__version__}"]
    assert f"airflow-provider-flyte=={__version__}" in sandbox["dependencies"]  # type: ignore[operator]


def test_the_changelog_has_an_entry_for_this_release() -> None:
    release = re.match(r"\d+\.\d+\.\d+", __version__)
    assert release is not None
    assert re.search(rf"^## {re.escape(release.group(0))}\b", (ROOT / "CHANGELOG.md").read_text(), re.MULTILINE)


def test_both_distributions_carry_the_same_license_and_notice() -> None:
    for name in ("LICENSE", "NOTICE"):
        assert (ROOT / name).read_bytes() == (SANDBOX / name).read_bytes(), name
    assert "Apache License" in (ROOT / "LICENSE").read_text()
    for path in (ROOT / "pyproject.toml", SANDBOX / "pyproject.toml"):
        project = _project(path)
        assert project["license"] == "Apache-2.0"
        assert project["license-files"] == ["LICENSE", "NOTICE"]


def test_the_supported_pythons_are_classified() -> None:
    for path in (ROOT / "pyproject.toml", SANDBOX / "pyproject.toml"):
        classifiers = _project(path)["classifiers"]
        assert isinstance(classifiers, list)
        listed = sorted(c.rsplit(" ", 1)[-1] for c in classifiers if re.fullmatch(r".*Python :: 3\.\d+", c))
        assert listed == list(SUPPORTED_PYTHONS), path


def test_the_links_are_written_once_and_used_alike() -> None:
    urls = _project(ROOT / "pyproject.toml")["urls"]
    assert isinstance(urls, dict)
    assert set(urls) == {"Homepage", "Documentation", "Source", "Changelog", "Issues"}
    readme = (ROOT / "README.md").read_text()
    for name in ("Documentation", "Changelog", "Issues"):
        assert urls[name] in readme, name
    assert "Python 3.10 to 3.13" in readme
    assert "Airflow 3.1.8 to 3.3" in readme
    config = (ROOT / "mkdocs.yml").read_text()
    assert f"site_url: {urls['Documentation']}" in config
    assert f"repo_url: {urls['Source']}" in config
    sandbox_docs = _project(SANDBOX / "pyproject.toml")["urls"]["Documentation"]  # type: ignore[index]
    assert sandbox_docs == urls["Documentation"] + "sandbox/"
    assert (ROOT / "docs" / "sandbox.md").exists()
