"""0.0.5's execution settings in the form the new classes take: entity choice, notifications, OAuth2 client.

The new :class:`~airflow_provider_flyte.remote.Options` checks the values thoroughly when a task runs; here only what
0.0.5 spelled differently is translated, and what 0.0.5 accepted but could never launch is refused while the DAG is
parsed. Importing this module loads no grpc, protobuf or flyteidl module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_flyte._phases import WORKFLOW_PHASES
from flyte_provider._migration import SECRET_SHOWN, LegacyParameterError


def check_one_entity(owner: str, launchplan_name: Any, task_name: Any) -> None:
    """Check that exactly one of ``launchplan_name`` and ``task_name`` is given, as 0.0.5 required.

    Raises:
        LegacyParameterError: naming the arguments.
    """
    if bool(launchplan_name) != bool(task_name):
        return
    fix = "give exactly one of launchplan_name and task_name"
    if launchplan_name:
        raise LegacyParameterError(
            owner, "task_name", task_name, f"is given together with launchplan_name={launchplan_name!r}", fix
        )
    raise LegacyParameterError(owner, "launchplan_name", launchplan_name, "and task_name are both missing", fix)


def check_oauth2_client(owner: str, oauth2_client: Any) -> None:
    """Refuse an OAuth2 client secret given as a value: Flyte takes a reference to a Flyte secret.

    0.0.5 accepted ``{"client_id": ..., "client_secret": "<text>"}``, and every launch with it failed ("Failed to
    trigger execution": flytekit put the text into the ``Secret`` message field).

    Raises:
        LegacyParameterError: naming ``oauth2_client.client_secret`` (its value is not shown).
    """
    if isinstance(oauth2_client, Mapping) and isinstance(oauth2_client.get("client_secret"), str):
        raise LegacyParameterError(
            owner,
            "oauth2_client.client_secret",
            SECRET_SHOWN,
            "is a text, but Flyte takes a reference to a Flyte secret, never its value (0.0.5 failed every such "
            "launch)",
            "pass {'group': <secret group>, 'key': <secret key>} instead",
        )


def legacy_notifications(owner: str, notifications: Any) -> Any:
    """0.0.5 notifications as the new classes take them: phase names, and one entry per channel.

    0.0.5 took phases as numbers (flytekit's ``WorkflowExecutionPhase.SUCCEEDED`` is ``4``) and built one Flyte
    notification from all the channels of an entry, of which Flyte kept only one. Here numbers become phase names
    and an entry with several channels becomes one notification per channel. Anything else is passed on unchanged
    for the new classes to check when the task runs.

    Raises:
        LegacyParameterError: for a phase number that is no workflow phase.
    """
    if not isinstance(notifications, list):
        return notifications
    converted: list[Any] = []
    for index, entry in enumerate(notifications):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("phases"), list):
            converted.append(entry)
            continue
        phases = [_phase_name(owner, f"notifications[{index}].phases", phase) for phase in entry["phases"]]
        channels = [key for key in entry if key != "phases"]
        if len(channels) <= 1:
            converted.append({**entry, "phases": phases})
        else:
            converted.extend({"phases": phases, channel: entry[channel]} for channel in channels)
    return converted


def _phase_name(owner: str, argument: str, phase: Any) -> Any:
    if isinstance(phase, bool) or not isinstance(phase, int):
        return phase  # a name (checked when the task runs) or something the new check will name
    if 0 <= phase < len(WORKFLOW_PHASES):
        return WORKFLOW_PHASES[phase]
    raise LegacyParameterError(
        owner,
        argument,
        phase,
        f"holds a number that is no workflow phase (0-{len(WORKFLOW_PHASES) - 1})",
        "use a phase name such as 'SUCCEEDED' or 'FAILED'",
    )


__all__ = ["check_oauth2_client", "check_one_entity", "legacy_notifications"]
