"""The README's Python tour runs as written, against the sandbox, configured the way flytekit users configure."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_remote_tour_runs_against_the_sandbox(
    flyte_sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    tour = next(block for block in _python_blocks() if "FlyteRemote(PlatformConfig.auto()" in block)
    monkeypatch.setenv("FLYTE_PLATFORM_URL", flyte_sandbox.endpoint)
    monkeypatch.setenv("FLYTE_PLATFORM_INSECURE", "true")
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.flyte config of the machine leaks in
    monkeypatch.chdir(tmp_path)
    exec(compile(tour, str(README), "exec"), {})
    printed = capsys.readouterr().out.split()
    assert float(printed[0]) == pytest.approx((3 + 1 + 4) * 2.0 / 3)
    assert printed[1].startswith("http://")
    assert "/console/projects/flytesnacks/domains/development/executions/" in printed[1]
