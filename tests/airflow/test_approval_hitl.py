# ruff: noqa: F811  (the shared DAG-test fixtures are imported from test_airflow_dags and used as parameters)
"""FlyteApprovalOperator through ``dag.test()``: the questions are answered through Airflow's own REST API.

A background thread plays the person: it watches Airflow's core API (the FastAPI app of the api-server, in-process,
authenticated with a JWT the auth manager signs for a test user) for the HITL questions of a DAG and answers them
with the same ``PATCH .../taskInstances/{task_id}/{map_index}/hitlDetails`` call the "Required actions" page makes.
The gates are those of the sandbox's ``demo.gated_publish`` (approval ``approve-report``, string input ``title``).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from test_airflow_dags import airflow_db, dags, remote, state, task_instances, xcom  # noqa: F401 (fixtures)

from airflow_provider_flyte.remote import FlyteRemote
from tests.support.airflow_env import AIRFLOW_ISOLATED

pytestmark = [
    pytest.mark.airflow,
    pytest.mark.timeout(300),
    # The API's JWTs are signed with the short secret a fresh AIRFLOW_HOME generates; that is fine for a test.
    pytest.mark.filterwarnings("ignore:The HMAC key is .* bytes long"),
    pytest.mark.skipif(not AIRFLOW_ISOLATED, reason="Airflow was imported before its test home could be set up"),
]

APPROVER = "alice"


class Approver:
    """A person answering HITL questions through Airflow's core REST API (``/api/v2``)."""

    def __init__(self) -> None:
        from airflow.api_fastapi.app import create_app, get_auth_manager
        from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
        from fastapi.testclient import TestClient

        self.client = TestClient(create_app(apps="core"))
        token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username=APPROVER, role="ADMIN"))
        self.headers = {"Authorization": f"Bearer {token}"}

    def open_questions(self, dag_id: str) -> list[dict[str, Any]]:
        """The unanswered HITL details of every run of ``dag_id``."""
        response = self.client.get(f"/api/v2/dags/{dag_id}/dagRuns/~/hitlDetails", headers=self.headers)
        assert response.status_code == 200, response.text
        return [detail for detail in response.json()["hitl_details"] if not detail["response_received"]]

    def answer(self, question: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        ti = question["task_instance"]
        path = (
            f"/api/v2/dags/{ti['dag_id']}/dagRuns/{ti['dag_run_id']}/taskInstances/{ti['task_id']}/"
            f"{ti['map_index']}/hitlDetails"
        )
        response = self.client.patch(path, headers=self.headers, json=payload)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


@pytest.fixture(scope="module")
def approver(airflow_db: None) -> Approver:
    return Approver()


@pytest.fixture(autouse=True)
def inline_hitl_trigger(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let Airflow 3.1/3.2's ``dag.test()`` run the standard provider's HITLTrigger inline.

    Before 3.3, HITL tasks defer to ``HITLTrigger``, which reads the answer with a ``GetHITLDetailResponse`` request
    to its supervisor. The real triggerer answers it; the in-process supervisor ``dag.test()`` runs triggers under
    does not (it replies "Unhandled request" and the trigger crashes), so Airflow's own HITL operators cannot run in
    ``dag.test()`` there. This adds the triggerer's two HITL handlers (the same execution-API calls) to that
    supervisor. Airflow 3.3+ parks HITL tasks in ``awaiting_input`` without a trigger and needs nothing.
    """
    from airflow.providers.standard.version_compat import AIRFLOW_V_3_3_PLUS

    if AIRFLOW_V_3_3_PLUS:
        return
    from airflow.jobs.triggerer_job_runner import HITLDetailResponseResult
    from airflow.sdk.execution_time.comms import GetHITLDetailResponse, UpdateHITLDetail
    from airflow.sdk.execution_time.supervisor import InProcessTestSupervisor

    handle_request = InProcessTestSupervisor._handle_request

    def handle_hitl_too(self: Any, msg: Any, log: Any, req_id: int) -> None:
        if isinstance(msg, GetHITLDetailResponse):
            response = self.client.hitl.get_detail_response(ti_id=msg.ti_id)
        elif isinstance(msg, UpdateHITLDetail):
            response = self.client.hitl.update_response(
                ti_id=msg.ti_id, chosen_options=msg.chosen_options, params_input=msg.params_input
            )
        else:
            return handle_request(self, msg, log, req_id)
        self.send_msg(HITLDetailResponseResult.from_api_response(response=response), request_id=req_id, error=None)
        return None

    monkeypatch.setattr(InProcessTestSupervisor, "_handle_request", handle_hitl_too)


@contextmanager
def answering(
    approver: Approver, dag_id: str, answers: dict[str, dict[str, Any]], give_up_after: float = 150.0
) -> Iterator[dict[str, Any]]:
    """Answer the questions of ``dag_id``'s tasks (task id -> PATCH body) from a thread while the block runs.

    Yields the questions as Airflow's API showed them, by task id (filled in as they are answered). A failed API
    call is retried; after ``give_up_after`` seconds every open question of the DAG gets its last option, because
    ``dag.test()`` would otherwise wait for an answer forever (Airflow's in-process task runner takes over SIGALRM,
    so pytest-timeout cannot stop it), and the block then fails with what went wrong.
    """
    from airflow.providers.standard.version_compat import AIRFLOW_V_3_3_PLUS as parks_for_input

    asked: dict[str, Any] = {}
    errors: list[str] = []
    stop = threading.Event()

    def loop() -> None:
        deadline = time.monotonic() + give_up_after
        while not stop.is_set() and len(asked) < len(answers):
            try:
                if time.monotonic() > deadline:
                    errors.append(f"gave up after {give_up_after:g}s; answered only {sorted(asked)}")
                    for question in approver.open_questions(dag_id):
                        approver.answer(question, {"chosen_options": question["options"][-1:]})
                    return
                for question in approver.open_questions(dag_id):
                    task_id = question["task_instance"]["task_id"]
                    # Airflow 3.3+ resumes only a parked task on an answer: one given while the task still runs
                    # (the question is written just before it parks) is recorded but never resumes it. Before 3.3,
                    # dag.test() runs the HITL trigger inline, which reads the answer whenever it was given.
                    parked = not parks_for_input or question["task_instance"]["state"] == "awaiting_input"
                    if task_id in answers and task_id not in asked and parked:
                        approver.answer(question, answers[task_id])
                        asked[task_id] = question
            except Exception as error:  # retried: the SQLite database is shared with dag.test()
                errors.append(f"{type(error).__name__}: {error}")
                print(f"approver thread: {type(error).__name__}: {error}", file=sys.stderr)
            stop.wait(0.2)

    thread = threading.Thread(target=loop, name=f"approver-{dag_id}", daemon=True)
    thread.start()
    try:
        yield asked
    finally:
        stop.set()
        thread.join(timeout=30)
    assert len(asked) == len(answers), f"questions left unanswered: {errors}"


def signal_values(remote: FlyteRemote, execution_id: str) -> dict[str, Any]:
    """Signal id -> whether it has a value, as Admin lists them."""
    return {s.id.signal_id: s.HasField("value") for s in remote.list_signals(execution_id)}


def test_example_asks_in_airflow_and_forwards_the_approval_and_the_title(
    dags: dict[str, Any], remote: FlyteRemote, approver: Approver
) -> None:
    answers = {
        "approve_report": {"chosen_options": ["Approve"]},
        "name_report": {"chosen_options": ["OK"], "params_input": {"title": "Q3 numbers"}},
    }
    with answering(approver, "example_flyte_approval", answers) as asked:
        run = dags["example_flyte_approval"].test()
    assert {key[0]: state(ti) for key, ti in task_instances(run).items()} == {
        "start_gated_publish": "success",
        "approve_report": "success",
        "name_report": "success",
        "wait_for_publish": "success",
    }
    execution_id = xcom(run, "start_gated_publish")
    name = execution_id.rsplit(":", 1)[1]
    console_url = xcom(run, "approve_report", key="_link_FlyteConsoleLink")
    assert console_url.endswith(name)

    approval = asked["approve_report"]
    assert (approval["options"], approval["multiple"], approval["params"]) == (["Approve", "Reject"], False, {})
    assert approval["subject"] == f"Approve Flyte gate 'approve-report' of execution {name}?"
    assert approval["body"].startswith("The weekly numbers are computed;")
    assert f"[`{execution_id}`]({console_url})" in approval["body"]
    title = asked["name_report"]
    assert title["options"] == ["OK"]
    assert title["subject"].startswith("Title of the weekly report (20")  # the templated subject, rendered
    assert list(title["params"]) == ["title"]
    assert "for signal `title`, a value of type `str`." in title["body"]

    assert xcom(run, "approve_report") == {
        "execution_id": execution_id,
        "signal_id": "approve-report",
        "kind": "approval",
        "type": "bool",
        "decision": "approve",
        "value": True,
        "answered_by": APPROVER,
        "answered_by_id": APPROVER,
        "answered_at": xcom(run, "approve_report")["answered_at"],
        "answered_in": "airflow",
        "timed_out": False,
        "console_url": console_url,
    }
    named = xcom(run, "name_report")
    assert (named["signal_id"], named["kind"], named["type"], named["decision"], named["value"]) == (
        "title",
        "input",
        "str",
        "set",
        "Q3 numbers",
    )
    assert named["answered_by"] == APPROVER
    assert named["answered_at"].startswith("20")
    execution = remote.fetch_execution(name=name)
    assert execution.phase_name == "SUCCEEDED"
    assert execution.outputs["o0"].startswith("Q3 numbers")
    assert signal_values(remote, execution_id) == {"approve-report": True, "title": True}


def test_rejection_is_forwarded_and_fails_the_gate_node(
    dags: dict[str, Any], remote: FlyteRemote, approver: Approver
) -> None:
    with answering(approver, "flyte_test_approval_reject", {"decide": {"chosen_options": ["Reject"]}}) as asked:
        run = dags["flyte_test_approval_reject"].test()
    assert {key[0]: state(ti) for key, ti in task_instances(run).items()} == {
        "start_gated": "success",
        "decide": "success",
        "again": "success",
    }
    # No signal id was given: the first unanswered signal, the approval, was asked about.
    assert asked["decide"]["options"] == ["Approve", "Reject"]
    decided = xcom(run, "decide")
    assert (decided["signal_id"], decided["decision"], decided["value"], decided["answered_by"]) == (
        "approve-report",
        "reject",
        False,
        APPROVER,
    )
    # Asked again after Flyte holds the answer: nothing is asked, Flyte's value is reported.
    again = xcom(run, "again")
    assert (again["decision"], again["value"], again["answered_in"], again["answered_by"]) == (
        "reject",
        False,
        "flyte",
        None,
    )
    assert "again" not in asked
    name = xcom(run, "start_gated").rsplit(":", 1)[1]
    execution = remote.wait(remote.fetch_execution(name=name), timeout=60, poll_interval=0.1)
    assert execution.phase_name == "FAILED"
    assert execution.error is not None
    assert "received a reject signal" in execution.error.message


def test_wrong_or_missing_typed_answers_and_unknown_gates_fail_and_set_nothing(
    dags: dict[str, Any], remote: FlyteRemote, approver: Approver, capfd: pytest.CaptureFixture[str]
) -> None:
    answers = {
        "wrong_type": {"chosen_options": ["OK"], "params_input": {"title": 42}},
        "no_value": {"chosen_options": ["OK"], "params_input": {"title": None}},
    }
    with answering(approver, "flyte_test_approval_bad", answers) as asked:
        run = dags["flyte_test_approval_bad"].test()
    assert {key[0]: state(ti) for key, ti in task_instances(run).items()} == {
        "start_gated": "success",
        "approve": "success",
        "wrong_type": "failed",
        "no_value": "failed",
        "unknown_signal": "failed",
    }
    assert set(asked) == {"wrong_type", "no_value"}
    output = "".join(capfd.readouterr())
    assert "wrong_type: the answer for signal 'title' was refused:" in output
    assert "no_value: the answer gave no value for signal 'title'; nothing was set" in output
    assert "has no signal 'approve-typo' (its gates wait for: 'approve-report', 'title'); nothing was asked" in output
    execution_id = xcom(run, "start_gated")
    assert signal_values(remote, execution_id) == {"approve-report": True, "title": False}
    remote.terminate(execution_id, "test done")
