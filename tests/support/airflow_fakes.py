"""Stand-ins for what FlyteOperator reads from an Airflow task context (no Airflow import)."""

from __future__ import annotations


class FakeTaskInstance:
    """What FlyteOperator reads from ``context["ti"]`` and the XComs it pushes."""

    def __init__(
        self, task_id: str, dag_id: str = "dag", run_id: str = "run", map_index: int = -1, try_number: int = 1
    ):
        self.task_id = task_id
        self.dag_id = dag_id
        self.run_id = run_id
        self.map_index = map_index
        self.try_number = try_number
        self.stats_tags: dict[str, str] = {}  # read by Airflow 3.3's ResumableJobMixin
        self.xcoms: dict[str, object] = {}

    def xcom_push(self, key: str, value: object) -> None:
        self.xcoms[key] = value


class FakeStateStore:
    """Airflow 3.3's ``task_state_store``: JSON values kept across tries."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}

    def get(self, key: str, default: object = None) -> object:
        return self.values.get(key, default)

    def set(self, key: str, value: object, retention: object = None) -> None:
        self.values[key] = value
