"""DAG parsing must stay light: the Airflow-facing modules load no grpc, protobuf or flyteidl module on import."""

import importlib
import json
import subprocess
import sys

import pytest

import airflow_provider_flyte

# Every module a DAG file imports. Extend this list whenever an Airflow-facing module is added.
PARSE_TIME_MODULES = [
    "airflow_provider_flyte",
    "airflow_provider_flyte.identifiers",
    "airflow_provider_flyte.configuration",
    "airflow_provider_flyte.exceptions",
    "airflow_provider_flyte.get_provider_info",
    "airflow_provider_flyte.hooks.flyte",
    "airflow_provider_flyte.operators.flyte",
    "airflow_provider_flyte.sensors.flyte",
    "airflow_provider_flyte.triggers.flyte",
    "airflow_provider_flyte.triggers.flyte2",
    "airflow_provider_flyte.operators._flyte1",
    "airflow_provider_flyte.operators._flyte2",
    "airflow_provider_flyte.sensors._flyte2",
    "airflow_provider_flyte.hooks._backend",
    "airflow_provider_flyte.operators.signal",
    "airflow_provider_flyte.sensors.signal",
    "airflow_provider_flyte.triggers.signal",
    "airflow_provider_flyte.operators.backfill",
    "airflow_provider_flyte.triggers.backfill",
    "airflow_provider_flyte.operators.approval",
    "airflow_provider_flyte.links.flyte",
    # The 0.0.5 import paths (flyte_provider): an unchanged old DAG parses as lightly.
    "flyte_provider",
    "flyte_provider.hooks.flyte",
    "flyte_provider.operators.flyte",
    "flyte_provider.sensors.flyte",
    "airflow_provider_flyte._airflow_common",
    "airflow_provider_flyte.operators._lineage",
    # Client-layer modules the Airflow-facing ones import at module level.
    "airflow_provider_flyte.watch",
    "airflow_provider_flyte.remote.signals",
    "airflow_provider_flyte.remote.backfill",
    "airflow_provider_flyte.remote.workflow_nodes",
]

_PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
heavy = sorted({m.split('.')[0] for m in sys.modules if m.startswith(('grpc', 'flyteidl', 'google.protobuf'))})
print(json.dumps(heavy))
"""

# OpenLineage is optional and loads when a task reports lineage, never while a DAG file is parsed. Airflow itself
# reads every installed provider's get_provider_info (its provider discovery), which is not ours to avoid.
_OPENLINEAGE_PROBE = """
import importlib, json, sys
import airflow.sdk
before = set(sys.modules)
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(m for m in set(sys.modules) - before if 'openlineage' in m)))
"""


@pytest.mark.airflow
def test_parse_time_modules_load_no_grpc_protobuf_or_flyteidl() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, *PARSE_TIME_MODULES], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == []


@pytest.mark.airflow
def test_parse_time_modules_load_no_openlineage() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _OPENLINEAGE_PROBE, *PARSE_TIME_MODULES], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == []


def test_openlineage_probe_detects_openlineage_imports() -> None:
    pytest.importorskip("airflow.providers.openlineage.extractors")
    out = subprocess.run(
        [sys.executable, "-c", _OPENLINEAGE_PROBE, "airflow_provider_flyte.operators._lineage_facets"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "openlineage.client" in json.loads(out)


def test_probe_detects_heavy_imports() -> None:
    # Guard against a probe that can never fail: importing a gRPC-backed module must be reported.
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, "flyteidl.core.literals_pb2"], capture_output=True, text=True, check=True
    ).stdout
    assert "flyteidl" in json.loads(out)


def test_lazy_public_names_resolve() -> None:
    for name in airflow_provider_flyte.__all__:
        assert getattr(airflow_provider_flyte, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = airflow_provider_flyte.Nope  # type: ignore[attr-defined]


_DAG_PARSE_PROBE = """
import json, sys
from datetime import datetime
import airflow.sdk
from airflow.sdk import DAG
before = set(sys.modules)
from airflow_provider_flyte.operators.backfill import FlyteBackfillOperator
from airflow_provider_flyte.operators.flyte import FlyteOperator
from airflow_provider_flyte.operators.signal import FlyteSignalOperator
from airflow_provider_flyte.sensors.flyte import FlyteExecutionSensor
from airflow_provider_flyte.sensors.signal import FlyteSignalSensor
with DAG("probe", start_date=datetime(2026, 1, 1), schedule=None):
    FlyteOperator(task_id="launch", launchplan_name="demo.pipeline", inputs={"numbers": [1]}, deferrable=True)
    FlyteExecutionSensor(task_id="sense", execution_id="ex:p:d:n", target_phases=["RUNNING"])
    FlyteSignalSensor(task_id="gate", execution_id="ex:p:d:n", signal_id="approve")
    FlyteSignalOperator(task_id="approve", execution_id="ex:p:d:n", signal_id="approve", action="approve")
    FlyteBackfillOperator(
        task_id="backfill", launchplan_name="demo.nightly", from_date="2026-01-01", to_date="2026-01-03"
    )
loaded = sorted(set(sys.modules) - before)
# FlyteApprovalOperator is Airflow's HITLOperator, whose module loads Airflow's HITL trigger: only ours count for it.
from airflow_provider_flyte.operators.approval import HITL_UNAVAILABLE_REASON, FlyteApprovalOperator
if HITL_UNAVAILABLE_REASON is None:
    with DAG("probe_approval", start_date=datetime(2026, 1, 1), schedule=None):
        FlyteApprovalOperator(task_id="ask", execution_id="ex:p:d:n", signal_id="approve")
ours = sorted(name for name in set(sys.modules) - before if name.startswith("airflow_provider_flyte"))
print(json.dumps({"loaded": loaded, "ours": ours}))
"""

RUNTIME_ONLY = (
    "airflow_provider_flyte.hooks.flyte",
    "airflow_provider_flyte.hooks._connection_settings",
    "airflow_provider_flyte.configuration",
    "airflow_provider_flyte.watch",
    "airflow_provider_flyte.triggers.",
    "airflow_provider_flyte.remote.",
    "airflow_provider_flyte.clients.",
    "airflow_provider_flyte.literals",
    "airflow_provider_flyte.exceptions",
    "airflow_provider_flyte.identifiers",
    "airflow_provider_flyte.waiting",
    "airflow_provider_flyte.progress",
    "airflow_provider_flyte._airflow_common",
    "airflow_provider_flyte.operators._naming",
    "airflow_provider_flyte.operators._lineage",  # and _lineage_facets
    "airflow_provider_flyte.operators._flyte2",
    "airflow_provider_flyte.operators._gate_wait",
    "airflow.triggers.",
    # Airflow's provider discovery may read the OpenLineage provider's get_provider_info; nothing else of it loads.
    "airflow.providers.openlineage.plugins",
    "airflow.providers.openlineage.extractors",
    "airflow.providers.openlineage.utils",
    "openlineage",
)
"""Modules only a running task, trigger or the API server needs: a DAG processor parsing a DAG file never loads them."""


@pytest.mark.airflow
def test_a_dag_file_loads_only_what_building_its_tasks_needs() -> None:
    out = subprocess.run([sys.executable, "-c", _DAG_PARSE_PROBE], capture_output=True, text=True, check=True).stdout
    probe = json.loads(out.strip().splitlines()[-1])
    assert [name for name in probe["loaded"] if name.startswith(RUNTIME_ONLY)] == []
    ours = probe["ours"]
    assert [name for name in ours if name.startswith(RUNTIME_ONLY)] == []
    # The package root, its version, _lazy and hooks._connection_form, the operators, sensors, links and parse-time
    # checks: 20 on Airflow 3.1, plus 2 of slack (15 on Airflow 3.3, whose provider discovery loaded the first four).
    assert len(ours) <= 22, ours


_SIGNAL_OPERATOR = "airflow_provider_flyte.operators.signal.FlyteSignalOperator"
_SIGNAL_SENSOR = "airflow_provider_flyte.sensors.signal.FlyteSignalSensor"
_BACKFILL_OPERATOR = "airflow_provider_flyte.operators.backfill.FlyteBackfillOperator"
_EXECUTION_SENSOR = "airflow_provider_flyte.sensors.flyte.FlyteExecutionSensor"
_GATE = {"execution_id": "ex:p:d:n", "signal_id": "approve"}


# FlyteOperator's and FlyteApprovalOperator's other argument checks are in tests/airflow (test_airflow_units.py,
# test_approval_units.py); these are the ones that would otherwise go untested now that the error classes load lazily.
@pytest.mark.airflow
@pytest.mark.parametrize(
    ("classpath", "arguments", "message"),
    [
        (
            "airflow_provider_flyte.operators.flyte.FlyteOperator",
            {"launchplan_name": "lp", "backend": "flyte3"},
            "t: backend='flyte3' must be 'flyte1', 'flyte2' or 'auto'",
        ),
        (
            _EXECUTION_SENSOR,
            {"execution_id": "ex:p:d:n", "target_phases": ["DONE"]},
            "t: target_phases has unknown phase 'DONE'",
        ),
        (
            _EXECUTION_SENSOR,
            {"execution_id": "ex:p:d:n", "outage_tolerance": -1},
            "t: outage_tolerance=-1 must be a positive, finite number of seconds",
        ),
        (_SIGNAL_OPERATOR, {**_GATE, "action": "deny"}, "t: action='deny' must be one of approve, reject, set"),
        (_SIGNAL_OPERATOR, {**_GATE, "action": "approve", "value": 1}, "t: value=1 is only for action='set'"),
        (_SIGNAL_OPERATOR, {**_GATE, "poll_interval": -1}, "t: poll_interval=-1 must be a positive, finite number"),
        (_SIGNAL_SENSOR, {**_GATE, "outage_tolerance": "long"}, "t: outage_tolerance='long' must be a positive"),
        (
            _BACKFILL_OPERATOR,
            {"launchplan_name": "lp", "failure_policy": "never"},
            "t: failure_policy='never' must be one of fail_immediately, fail_after_executable_nodes_complete",
        ),
        (_BACKFILL_OPERATOR, {"launchplan_name": "lp", "timeout": 0}, "t: timeout=0 must be a positive, finite"),
    ],
)
def test_bad_task_arguments_still_fail_at_parse_time_naming_the_argument(
    classpath: str, arguments: dict[str, object], message: str
) -> None:
    from airflow_provider_flyte.exceptions import FlyteInvalidInputException

    module, _, name = classpath.rpartition(".")
    task_class = getattr(importlib.import_module(module), name)
    with pytest.raises(FlyteInvalidInputException) as raised:
        task_class(task_id="t", **arguments)
    assert message in str(raised.value)


# Flyte 1 paths: the package and every v1 client module. None may load flyteidl2 (the `flyte2` extra, imported only
# by airflow_provider_flyte.clients.v2), so a Flyte 1 installation without the extra keeps working.
V1_CLIENT_MODULES = [
    *PARSE_TIME_MODULES,
    "airflow_provider_flyte.clients",
    "airflow_provider_flyte.clients.v2",  # the subpackage itself loads lazily
    "airflow_provider_flyte.clients.raw",
    "airflow_provider_flyte.clients.friendly",
    "airflow_provider_flyte.clients.aio",
    "airflow_provider_flyte.clients.auth",
    "airflow_provider_flyte.clients.policy",
    "airflow_provider_flyte.literals",
    "airflow_provider_flyte.remote",
]

_FLYTEIDL2_PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient
from airflow_provider_flyte.configuration import PlatformConfig
SynchronousFlyteClient(PlatformConfig.for_sandbox("127.0.0.1:1")).close()
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'flyteidl2')))
"""


def test_flyte1_paths_load_no_flyteidl2() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _FLYTEIDL2_PROBE, *V1_CLIENT_MODULES], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out.strip().splitlines()[-1]) == []


def test_flyteidl2_probe_detects_the_v2_client() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _FLYTEIDL2_PROBE, "airflow_provider_flyte.clients.v2.friendly"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "flyteidl2" in out
