"""Turn FlyteOperator's plain-Python execution settings into :class:`~airflow_provider_flyte.remote.Options`.

The operator takes labels, secrets, notifications and the like as dicts and lists, as the 0.0.5 provider did, so DAG
files stay free of protobuf. :meth:`Options.from_plain <airflow_provider_flyte.remote.Options.from_plain>` checks and
converts them when the task runs, each error naming the task, the argument and the offending value. Unlike 0.0.5, a
notification carries exactly one of its channels and ``raw_output_data_config`` is honoured.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_flyte.remote.options import Options


def build_options(*, task_id: str, **plain: Any) -> Options:
    """Validate the operator's settings and build the execution :class:`Options` (see ``Options.from_plain``).

    Raises:
        FlyteInvalidInputException: naming the task, argument and value at fault.
    """
    return Options.from_plain(source=task_id, **plain)
