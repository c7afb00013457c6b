"""Re-runs and recovery: a new run related to an earlier one through ``RunSpec`` (``relation``, ``related_to``).

Flyte 2 records the relation on the new run (``RunSpec.relation``, shown as ``ActionMetadata.relation``). A
*rerun* (``RELATION_TYPE_RERUN``) runs everything again. A *recovery* (``RELATION_TYPE_RECOVER``) reuses the
actions that succeeded in the earlier run, recorded as ``RECOVERED`` with their outputs and ``recovered_from``, and
runs again what failed or never ran, plus the actions named in ``RunSpec.recover.force_rerun_actions``. Inputs left
out of the request keep the earlier run's values.

The sandbox runs only a root action ``a0``, so a recovery either recovers ``a0`` (it succeeded before: the new run
is ``RECOVERED`` at once) or runs it again. A spec with ``related_to`` and no ``relation`` is read as a recovery
when ``recover`` is set and as a rerun otherwise (what the provider's ``on_retry`` sends); ``relation`` wins.
"""

from __future__ import annotations

import time

from flyteidl2.common import identifier_pb2, phase_pb2
from flyteidl2.common import run_pb2 as common_run_pb2
from flyteidl2.task import run_pb2

from flyte_admin_sandbox.v2.errors import invalid, not_found
from flyte_admin_sandbox.v2.store import RunRecord, Store

ROOT_ACTION = "a0"


def relation_of(spec: run_pb2.RunSpec) -> common_run_pb2.Relation | None:
    """The run ``spec`` relates to and how, or ``None`` for an unrelated run.

    Args:
        spec: The run spec a client sent.

    Returns:
        ``spec.relation`` when set; else one built from ``spec.related_to`` (RECOVER when ``spec.recover`` is set,
        RERUN otherwise); else ``None``.
    """
    if spec.HasField("relation") and spec.relation.related_to.name:
        return spec.relation
    if not spec.related_to.name:
        return None
    kind = common_run_pb2.RELATION_TYPE_RECOVER if spec.HasField("recover") else common_run_pb2.RELATION_TYPE_RERUN
    return common_run_pb2.Relation(related_to=spec.related_to, relation_type=kind)


def source_run(store: Store, run_id: identifier_pb2.RunIdentifier, relation: common_run_pb2.Relation) -> RunRecord:
    """The earlier run a new run relates to.

    Raises:
        ServiceError: ``INVALID_ARGUMENT`` when it lies in another project or domain, ``NOT_FOUND`` when unknown.
    """
    source = relation.related_to
    if (source.project or run_id.project, source.domain or run_id.domain) != (run_id.project, run_id.domain):
        where = f"{source.project}/{source.domain}"
        raise invalid("run_spec.relation.related_to", where, f"must be in {run_id.project}/{run_id.domain}")
    record = store.get_run(run_id.project, run_id.domain, source.name)
    if record is None:
        raise not_found("run", f"{run_id.project}/{run_id.domain}/{source.name}")
    return record


def recovers_root(spec: run_pb2.RunSpec, relation: common_run_pb2.Relation, source: RunRecord) -> bool:
    """Whether the new run's root action is recovered from ``source`` rather than run again."""
    if relation.relation_type != common_run_pb2.RELATION_TYPE_RECOVER:
        return False
    if ROOT_ACTION in spec.recover.force_rerun_actions:
        return False
    return source.phase in (phase_pb2.ACTION_PHASE_SUCCEEDED, phase_pb2.ACTION_PHASE_RECOVERED)


def record_relation(record: RunRecord, relation: common_run_pb2.Relation) -> None:
    """Record the relation on the new run's spec (``RunSpec.relation``, with ``related_to`` filled)."""
    record.run_spec.relation.CopyFrom(relation)
    record.run_spec.relation.related_to.project = record.run_id.project
    record.run_spec.relation.related_to.domain = record.run_id.domain
    if not record.run_spec.related_to.name:
        record.run_spec.related_to.CopyFrom(record.run_spec.relation.related_to)


def recover_root(record: RunRecord, source: RunRecord) -> None:
    """Make the new run's root action ``RECOVERED`` with the outputs ``source``'s root action produced."""
    now = time.time()
    record.phase = phase_pb2.ACTION_PHASE_RECOVERED
    record.outputs = source.outputs
    record.started_at = record.ended_at = now


def recovered_from(record: RunRecord) -> identifier_pb2.ActionIdentifier | None:
    """The action a ``RECOVERED`` root action was recovered from, else ``None``."""
    if record.phase != phase_pb2.ACTION_PHASE_RECOVERED or not record.run_spec.relation.related_to.name:
        return None
    return identifier_pb2.ActionIdentifier(run=record.run_spec.relation.related_to, name=ROOT_ACTION)
