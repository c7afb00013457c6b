"""OpenLineage for the Flyte operators, through Airflow's OpenLineage provider when it is installed (optional).

Two things, both off the launch path's critical decisions (execution names never change):

* **Facets on completion.** While the task runs, the operator keeps a :class:`FlyteRunRecord` of the execution it
  followed: plain values only (ids, phase, Console URL, the blob / structured dataset URIs its inputs and outputs
  carry). The OpenLineage listener calls ``get_openlineage_facets_on_complete`` in a forked process after the task
  ends, where no gRPC channel may be used, so the facets are built from that record alone
  (:mod:`airflow_provider_flyte.operators._lineage_facets`).
* **Parent job injection.** With ``openlineage_inject_parent_job_info`` (default: ``[openlineage]
  spark_inject_parent_job_info``, as the Spark and Databricks operators read it) the launched execution gets
  annotations naming the Airflow task's OpenLineage run (:data:`PARENT_ANNOTATIONS`), so what runs in Flyte can link
  its own lineage events to it. Annotations, not labels: job names exceed Kubernetes' 63-character label values.

Importing this module loads neither OpenLineage nor grpc, protobuf or flyteidl: the operator modules import it while
a DAG file is parsed. Lineage never fails a task: errors are logged and the task goes on without them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_provider_flyte._phases import TERMINAL_PHASE_NAMES

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from flyteidl.core import literals_pb2
    from openlineage.client.event_v2 import Dataset
    from openlineage.client.facet_v2 import RunFacet

    from airflow_provider_flyte.hooks.flyte import FlyteHook
    from airflow_provider_flyte.remote import FlyteWorkflowExecution

log = logging.getLogger(__name__)

ANNOTATION_PREFIX = "openlineage.io/"
"""Prefix of the annotations carrying the Airflow parent run (Kubernetes' ``prefix/name`` key form)."""
PARENT_ANNOTATIONS = (
    "parent-job-namespace",
    "parent-job-name",
    "parent-run-id",
    "root-parent-job-namespace",
    "root-parent-job-name",
    "root-parent-run-id",
)
"""Names (after :data:`ANNOTATION_PREFIX`) of the injected annotations, in the order of Spark's
``spark.openlineage.parentJobNamespace`` ... ``rootParentRunId`` properties."""

_OBJECT_STORES = frozenset({"s3", "s3a", "s3n", "gs", "gcs", "abfs", "abfss", "wasb", "wasbs", "az", "oss"})
"""Schemes whose dataset names are object keys (no leading slash), as OpenLineage's naming spec has them."""


@dataclass(frozen=True)
class FlyteRunRecord:
    """What lineage reports about one Flyte execution, captured while the task runs (plain values, no secrets).

    Attributes:
        namespace: The job namespace, ``flyte://<Admin endpoint>``.
        job_name: ``<project>.<domain>.<launch plan or task name>``.
        job_type: ``LAUNCH_PLAN`` or ``TASK``: what was launched.
        execution_id: ``ex:<project>:<domain>:<name>``.
        launched_entity: The versioned id of what was launched (``lp:p:d:name:version``).
        phase: The execution's phase when captured (``SUCCEEDED``, ``FAILED``...).
        console_url: Its Flyte Console page.
        started: When Flyte created the execution.
        ended: When it last changed (its end once terminal).
        inputs: Dataset URIs its inputs carry (blobs, structured datasets), in input-name order.
        outputs: Dataset URIs its outputs carry (none unless it succeeded).
    """

    namespace: str
    job_name: str
    job_type: str
    execution_id: str
    launched_entity: str
    phase: str
    console_url: str | None
    started: datetime | None = None
    ended: datetime | None = None
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()

    @property
    def is_done(self) -> bool:
        """Whether the execution had finished when captured."""
        return self.phase in TERMINAL_PHASE_NAMES


# ---------------------------------------------------------------------------------------------- availability


def lineage_enabled() -> bool:
    """Whether Airflow's OpenLineage provider is installed and enabled (a transport configured, not disabled)."""
    try:
        from airflow.providers.openlineage import conf as ol_conf
    except ImportError:
        return False
    return not ol_conf.is_disabled()


# ---------------------------------------------------------------------------------------------- parent injection


def parent_job_info(task_instance: Any) -> dict[str, str]:
    """The Airflow task's OpenLineage run as annotation values, from the OpenLineage provider's macros.

    Raises:
        ImportError: when the OpenLineage provider is not installed.
    """
    from airflow.providers.openlineage.plugins import macros

    namespace = macros.lineage_job_namespace()  # type: ignore[no-untyped-call]
    root_namespace = getattr(macros, "lineage_root_job_namespace", None)  # OpenLineage provider 2.9+
    values = (
        namespace,
        macros.lineage_job_name(task_instance),
        macros.lineage_run_id(task_instance),
        root_namespace(task_instance) if root_namespace is not None else namespace,
        macros.lineage_root_job_name(task_instance),
        macros.lineage_root_run_id(task_instance),
    )
    return {ANNOTATION_PREFIX + key: str(value) for key, value in zip(PARENT_ANNOTATIONS, values, strict=True)}


def with_parent_job_info(annotations: Any, context: Mapping[str, Any], enabled: bool, task_id: str) -> Any:
    """``annotations`` plus the parent run annotations when ``enabled`` (unchanged otherwise).

    When the DAG already gives any ``openlineage.io/`` annotation, nothing is added (as the Spark operators keep
    properties set by hand). Anything but a mapping is returned unchanged, for the operator's own argument check.
    """
    if not enabled or not (annotations is None or isinstance(annotations, Mapping)):
        return annotations
    given = dict(annotations or {})
    if any(str(key).startswith(ANNOTATION_PREFIX) for key in given):
        log.info("%s: OpenLineage parent annotations are already given; not injecting them", task_id)
        return annotations
    try:
        return {**given, **parent_job_info(context["ti"])}
    except ImportError:
        log.warning(
            "%s: openlineage_inject_parent_job_info is on but apache-airflow-providers-openlineage is not "
            "installed; launching without the parent job annotations",
            task_id,
        )
    except Exception:
        log.warning("%s: could not build the OpenLineage parent job annotations", task_id, exc_info=True)
    return annotations


# ---------------------------------------------------------------------------------------------- run records


def capture(hook: FlyteHook, execution: FlyteWorkflowExecution, console_url: str | None) -> FlyteRunRecord | None:
    """The :class:`FlyteRunRecord` of ``execution``, when OpenLineage is enabled (``None`` otherwise, or on error).

    Reads the execution's inputs and outputs (one ``GetExecutionData``, already loaded for a finished execution's
    outputs) for the dataset URIs they carry.
    """
    if not lineage_enabled():
        return None
    try:
        return _record(hook, execution, console_url)
    except Exception:
        log.warning("Could not capture OpenLineage data of Flyte execution %s", execution.id, exc_info=True)
        return None


def capture_by_id(hook: FlyteHook, execution_id: str, console_url: str | None) -> FlyteRunRecord | None:
    """:func:`capture` for an execution known by its id (``ex:p:d:name``); fetched only when lineage is enabled."""
    if not lineage_enabled():
        return None
    try:
        from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier

        parsed = WorkflowExecutionIdentifier.from_python_std(execution_id)
        execution = hook.get_remote().fetch_execution(parsed.project, parsed.domain, parsed.name)
        return _record(hook, execution, console_url)
    except Exception:
        log.warning("Could not capture OpenLineage data of Flyte execution %s", execution_id, exc_info=True)
        return None


def backfill_record(
    hook: FlyteHook, launch_plan: str, execution_id: str, phase: str | None, url: str | None
) -> FlyteRunRecord | None:
    """A record of a backfill execution (no datasets): job ``<project>.<domain>.<launch plan>``, type ``BACKFILL``.

    Built from what the operator already holds (no RPC), when OpenLineage is enabled.
    """
    if not lineage_enabled():
        return None
    try:
        from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier

        parsed = WorkflowExecutionIdentifier.from_python_std(execution_id)
        name = launch_plan.split(":")[3] if launch_plan.startswith("lp:") else launch_plan
        return FlyteRunRecord(
            namespace=job_namespace(hook.platform_config.endpoint),
            job_name=f"{parsed.project}.{parsed.domain}.{name}",
            job_type="BACKFILL",
            execution_id=execution_id,
            launched_entity=launch_plan,
            phase=phase or "UNDEFINED",
            console_url=url,
            ended=datetime.now(timezone.utc),
        )
    except Exception:
        log.warning("Could not capture OpenLineage data of Flyte backfill %s", execution_id, exc_info=True)
        return None


def _record(hook: FlyteHook, execution: FlyteWorkflowExecution, console_url: str | None) -> FlyteRunRecord:
    from airflow_provider_flyte.identifiers import Identifier

    entity = Identifier.from_flyte_idl(execution.launched_entity_id)
    closure = execution.closure
    outputs = execution.outputs.literals if execution.is_successful else {}
    return FlyteRunRecord(
        namespace=job_namespace(hook.platform_config.endpoint),
        job_name=f"{entity.project}.{entity.domain}.{entity.name}",
        job_type=entity.resource_type.name,
        execution_id=str(execution.id),
        launched_entity=str(entity),
        phase=execution.phase_name,
        console_url=console_url,
        started=closure.created_at.ToDatetime(timezone.utc) if closure.HasField("created_at") else None,
        ended=closure.updated_at.ToDatetime(timezone.utc) if closure.HasField("updated_at") else None,
        inputs=_uris_by_name(execution.inputs.literals),
        outputs=_uris_by_name(outputs),
    )


def job_namespace(endpoint: str) -> str:
    """The OpenLineage job namespace of a Flyte Admin endpoint: ``flyte://<host>[:<port>]``."""
    return f"flyte://{endpoint}"


# ---------------------------------------------------------------------------------------------- datasets


def literal_uris(literal: literals_pb2.Literal) -> Iterator[str]:
    """The dataset URIs a literal carries: blobs (files, directories), structured datasets and schemas.

    Looks inside collections, maps and unions; offloaded literals are Flyte's own storage, not datasets.
    """
    kind = literal.WhichOneof("value")
    if kind == "collection":
        for item in literal.collection.literals:
            yield from literal_uris(item)
    elif kind == "map":
        for key in sorted(literal.map.literals):
            yield from literal_uris(literal.map.literals[key])
    elif kind == "scalar":
        scalar = literal.scalar
        which = scalar.WhichOneof("value")
        if which == "union":
            yield from literal_uris(scalar.union.value)
        elif which in ("blob", "structured_dataset", "schema"):
            uri = getattr(scalar, which).uri
            if uri:
                yield uri


def _uris_by_name(literals: Mapping[str, literals_pb2.Literal]) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for name in sorted(literals):
        found.update(dict.fromkeys(literal_uris(literals[name])))
    return tuple(found)


def dataset_identity(uri: str) -> tuple[str, str] | None:
    """OpenLineage's ``(namespace, name)`` of a dataset URI, or ``None`` when it names no place.

    ``s3://bucket/key`` -> ``("s3://bucket", "key")``; ``file:///tmp/x`` or ``/tmp/x`` -> ``("file", "/tmp/x")``.
    Credentials in the URI (``user:password@``) are left out.
    """
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme in ("", "file"):
        return ("file", parts.path) if parts.path else None
    host = parts.hostname or ""
    if not host:
        return None
    user = parts.username if parts.username and parts.password is None else None  # abfss://container@account
    authority = (f"{user}@" if user else "") + host + (f":{port}" if port else "")
    path = parts.path.lstrip("/") if scheme in _OBJECT_STORES else parts.path
    return f"{scheme}://{authority}", path or "/"


def datasets(uris: Iterable[str]) -> list[tuple[str, str]]:
    """The distinct ``(namespace, name)`` pairs of ``uris``, in order."""
    found: dict[tuple[str, str], None] = {}
    for uri in uris:
        identity = dataset_identity(uri)
        if identity is not None:
            found[identity] = None
    return list(found)


# ---------------------------------------------------------------------------------------------- facets


def operator_lineage(record: FlyteRunRecord | None, task_instance: Any) -> OperatorLineage[Dataset, RunFacet] | None:
    """The facets of the Airflow task's event; also emits the Flyte execution's own run events.

    ``None`` when the OpenLineage provider is not installed; empty when the task captured nothing.
    """
    try:
        from airflow_provider_flyte.operators import _lineage_facets as facets
    except ImportError:
        return None
    if record is None:
        return facets.empty_lineage()
    facets.emit_flyte_run(record, task_instance)
    return facets.task_lineage(record)
