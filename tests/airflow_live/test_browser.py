"""The provider as a person meets it: Airflow's UI in a real Chromium, against the shared live deployment.

Chromium is Debian's package, driven headless by Playwright (``tests/support/browser.py``); every test saves
screenshots of what it saw under ``build/screenshots/<test>/``. The assertions are on what the pages show: roles,
labels and text, not CSS classes, except the sandbox console's ``phase`` badge, which is the console's own contract.
The waits are Playwright's ``expect`` with generous limits and REST polls with hang guards: nothing assumes a fast
machine.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flyte_admin_sandbox import FlyteSandbox
from flyte_admin_sandbox.airflow_deployment import AirflowDeployment, ApiError
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright  # needed by this module only

from airflow_provider_flyte.remote import FlyteRemote
from tests.support.browser import CHROMIUM_ARGS, Screenshots, chromium_executable
from tests.support.live import DOMAIN, PROJECT, RUN_SECONDS

pytestmark = [pytest.mark.live, pytest.mark.browser, pytest.mark.timeout(600)]

UI_MS = 60_000
"""How long a page may take to show something (milliseconds; a hang guard for a loaded machine)."""
LINK_KEY = "_link_FlyteConsoleLink"
"""The XCom key of the "Flyte Console" extra link."""


@pytest.fixture(scope="package", autouse=True)
def chromium() -> str:
    """Chromium's path, looked up before anything else (autouse, package scope): without it, fail or skip at once."""
    return chromium_executable()


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def screenshots(request: pytest.FixtureRequest) -> Screenshots:
    return Screenshots(request.node.name)


@pytest.fixture
def page(browser: Browser, deployment: AirflowDeployment, screenshots: Screenshots) -> Iterator[Page]:
    context = browser.new_context(base_url=deployment.url, viewport={"width": 1400, "height": 1400})
    context.set_default_timeout(UI_MS)
    opened = context.new_page()
    yield opened
    for number, shown in enumerate(context.pages):  # what was on screen at the end, also when the test failed
        screenshots.take(shown, f"end-{number}")
    context.close()


def form_field(form: Locator, label: str) -> Locator:
    """The row of a form field by its visible label (Airflow's extra fields have inputs without accessible names)."""
    return form.get_by_role("group").filter(has=form.page.get_by_text(label, exact=True))


def test_a_flyte_connection_is_created_and_tested_through_the_add_connection_form(
    page: Page, deployment: AirflowDeployment, sandbox: FlyteSandbox, screenshots: Screenshots
) -> None:
    conn_id = "flyte_from_the_form"
    host, port = sandbox.endpoint.rsplit(":", 1)
    page.goto("/connections")
    page.get_by_role("button", name="Add Connection").click()
    form = page.get_by_role("dialog")
    expect(form.get_by_role("heading", name="Add Connection")).to_be_visible()
    form.get_by_role("combobox", name="Connection Type").fill("Flyte")
    form.get_by_role("option", name="Flyte", exact=True).click()
    expect(form.get_by_role("textbox", name="Flyte Admin host")).to_be_visible()
    screenshots.take(page, "flyte-type-chosen")
    # Nothing typed yet: no field claims to be required (the booleans did when they did not admit null).
    expect(form.get_by_text("This field is required")).to_have_count(0)
    form.get_by_role("button", name="Extra Fields", exact=True).click()  # the sections open one at a time
    expect(form_field(form, "Insecure (no TLS)")).to_be_visible()
    expect(form.get_by_role("textbox", name="Flyte Admin host")).to_be_hidden()
    expect(form.get_by_text("This field is required")).to_have_count(0)
    screenshots.take(page, "extra-fields")
    # Auth mode's empty choice reads "Automatic", never a literal "null".
    auth_mode = form_field(form, "Auth mode")
    expect(auth_mode).to_contain_text("Automatic")
    expect(auth_mode).not_to_contain_text("null")
    auth_mode.get_by_role("combobox").click()
    choices = page.get_by_role("option")
    expect(choices.filter(has_text="Client credentials")).to_have_count(1)
    labels = choices.all_inner_texts()
    assert "Automatic" in labels, labels
    assert not [label for label in labels if "null" in label.lower()], labels
    screenshots.take(page, "auth-mode-choices")
    choices.filter(has_text=re.compile(r"^Automatic$")).click()

    form.get_by_role("textbox", name="Connection ID").fill(conn_id)
    form_field(form, "Project").get_by_role("combobox").fill(PROJECT)
    form_field(form, "Domain").get_by_role("combobox").fill(DOMAIN)
    insecure = form.get_by_role("checkbox", name="Insecure (no TLS)")
    # The switch's input sits under its track, so a click goes to the track; Space on the focused switch is the same.
    insecure.focus()
    page.keyboard.press("Space")
    expect(insecure).to_be_checked()
    screenshots.take(page, "extra-fields-filled-in")
    form.get_by_role("button", name="Standard Fields", exact=True).click()
    expect(insecure).to_be_hidden()
    form.get_by_role("textbox", name="Flyte Admin host").fill(host)
    form.get_by_role("spinbutton", name="Port").fill(port)
    expect(form.get_by_text("This field is required")).to_have_count(0)
    save = form.get_by_role("button", name="Save")
    expect(save).to_be_enabled()
    screenshots.take(page, "standard-fields-filled-in")
    save.click()
    expect(form).to_be_hidden()

    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=conn_id, exact=True))
    expect(row).to_contain_text("flyte")
    expect(row).to_contain_text(host)
    expect(row).to_contain_text(port)
    screenshots.take(page, "listed")
    stored = deployment.get(f"/connections/{conn_id}")
    assert (stored["conn_type"], stored["host"], stored["port"]) == ("flyte", host, int(port)), stored
    extra = json.loads(stored["extra"])
    assert (extra["project"], extra["domain"], extra["insecure"]) == (PROJECT, DOMAIN, True), extra
    assert extra.get("auth_mode") is None, extra

    # Open it again: what was saved is what the form shows.
    row.get_by_role("button", name="Edit Connection").click()
    edit = page.get_by_role("dialog")
    expect(edit.get_by_role("textbox", name="Flyte Admin host")).to_have_value(host)
    expect(edit.get_by_role("spinbutton", name="Port")).to_have_value(port)
    screenshots.take(page, "opened")
    edit.get_by_role("button", name="Extra Fields", exact=True).click()
    expect(edit.get_by_role("checkbox", name="Insecure (no TLS)")).to_be_checked()
    expect(edit.get_by_role("textbox", name="Flyte Admin host")).to_be_hidden()
    expect(form_field(edit, "Project").get_by_role("combobox")).to_have_value(PROJECT)
    expect(form_field(edit, "Auth mode")).to_contain_text("Automatic")
    screenshots.take(page, "opened-extra-fields")
    edit.get_by_role("button", name="Close").click()
    expect(edit).to_be_hidden()

    # Airflow 3.3 has the Test button in the list (the form has none).
    row.get_by_role("button", name="Test Connection").click()
    result = page.get_by_role("status").filter(has_text="Test Connection")
    expect(result).to_contain_text("Test Connection Successful", timeout=UI_MS)
    expect(result).to_contain_text("Connected to Flyte Admin", timeout=UI_MS)
    expect(result).to_contain_text(f"project '{PROJECT}'")
    screenshots.take(page, "tested")


def console_link_when_deferred(deployment: AirflowDeployment, dag_id: str, run_id: str, task_id: str) -> str | None:
    """The task's "Flyte Console" URL once it is deferred (the operator pushes it before deferring)."""
    if deployment.task_states(dag_id, run_id).get(task_id) != "deferred":
        return None
    try:
        return str(deployment.xcom(dag_id, run_id, task_id, LINK_KEY))
    except ApiError as error:
        if error.status_code == 404:
            return None
        raise


def open_console_from_details(page: Page, dag_id: str, run_id: str, task_id: str, state: str) -> Page:
    """Open the task instance, its Details tab, check the state shown, click "Flyte Console"; return the new tab."""
    page.goto(f"/dags/{dag_id}/runs/{run_id}/tasks/{task_id}")
    page.get_by_role("link", name="Details", exact=True).click()
    state_row = page.get_by_role("row").filter(has=page.get_by_role("cell", name="State", exact=True))
    expect(state_row).to_contain_text(state)
    expect(page.get_by_role("heading", name="Extra Links")).to_be_visible()
    link = page.get_by_role("link", name="Flyte Console")
    expect(link).to_have_attribute("href", re.compile(r"/console/projects/"))
    with page.context.expect_page() as opened:
        link.click()
    console = opened.value
    console.wait_for_load_state()
    return console


def trigger_in_ui(page: Page, dag_id: str, screenshots: Screenshots) -> str:
    """Trigger ``dag_id`` as a person does: the DAG page's Trigger button and dialog, defaults kept; the run id."""
    page.goto(f"/dags/{dag_id}")
    page.get_by_role("button", name="Trigger Dag", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name=re.compile(f"Trigger Dag - {dag_id}"))).to_be_visible()
    screenshots.take(page, f"trigger-dialog-{dag_id}")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/dagRuns")) as created:
        dialog.get_by_role("button", name="Trigger", exact=True).click()
    assert created.value.ok, created.value.text()
    return str(created.value.json()["dag_run_id"])


def expect_console_page(console: Page, url: str, name: str, phase: str) -> None:
    """The sandbox console's page of execution ``name``, showing ``phase``."""
    expect(console).to_have_url(url)
    heading = console.get_by_role("heading", level=1)
    expect(heading).to_contain_text(name)
    expect(heading.locator(".phase")).to_have_text(phase)


def test_the_flyte_console_link_opens_the_execution_while_deferred_and_after_success(
    page: Page, deployment: AirflowDeployment, sandbox: FlyteSandbox, screenshots: Screenshots
) -> None:
    dag_id, task_id = "example_flyte_pipeline", "run_pipeline"
    # demo.pipeline's first node runs until unscripted: the task stays deferred for as long as the test looks.
    sandbox.script("demo.summarize", hang=True)
    try:
        run_id = trigger_in_ui(page, dag_id, screenshots)
        url = deployment.wait_for(
            "the task to defer with its console link",
            lambda: console_link_when_deferred(deployment, dag_id, run_id, task_id),
            RUN_SECONDS,
        )
        name = url.rstrip("/").rsplit("/", 1)[1]
        console = open_console_from_details(page, dag_id, run_id, task_id, "deferred")
        screenshots.take(page, "details-deferred")
        expect_console_page(console, url, name, "RUNNING")
        screenshots.take(console, "console-running")
        console.close()
    finally:
        sandbox.unscript("demo.summarize")

    state = deployment.wait_for_run(dag_id, run_id, RUN_SECONDS)
    assert state == "success", deployment.task_states(dag_id, run_id)
    result = deployment.xcom(dag_id, run_id, task_id)
    assert (result["execution_id"].rsplit(":", 1)[1], result["phase"]) == (name, "SUCCEEDED"), result
    assert result["console_url"] == url, result
    console = open_console_from_details(page, dag_id, run_id, task_id, "success")
    screenshots.take(page, "details-success")
    expect_console_page(console, url, name, "SUCCEEDED")
    expect(console.get_by_role("heading", name="Outputs")).to_be_visible()
    expect(console.get_by_role("main")).to_contain_text(result["outputs"]["report"])
    screenshots.take(console, "console-succeeded")


def answer_in_required_actions(
    page: Page,
    deployment: AirflowDeployment,
    run_id: str,
    task_id: str,
    respond: Callable[[Locator], None],
    received: str,
    screenshots: Screenshots,
) -> None:
    """Open the task's question in Browse > Required Actions, answer it with ``respond(drawer)``, see ``received``."""
    dag_id = "example_flyte_approval"
    # A person reads the question before answering; a test must wait until the task is parked for real (an earlier
    # answer races Airflow 3.3: see AirflowDeployment.parked).
    deployment.wait_for(f"{task_id} to wait for an answer", lambda: deployment.parked(dag_id, run_id, task_id), 300)
    page.goto("/")
    page.get_by_role("button", name="Browse").click()
    page.get_by_role("menuitem", name="Required Actions").click()
    row = (
        page.get_by_role("row")
        .filter(has=page.get_by_role("link", name=run_id, exact=True))
        .filter(has=page.get_by_role("link", name=task_id, exact=True))
    )
    expect(row).to_contain_text("Required")
    row.get_by_role("button", name="Open Review Drawer").click()
    drawer = page.get_by_role("dialog", name="Required Actions")
    expect(drawer.get_by_role("link", name=task_id)).to_be_visible()
    expect(drawer.get_by_role("link", name=re.compile(r"^ex:flytesnacks:development:"))).to_be_visible()
    screenshots.take(page, f"{task_id}-question")
    respond(drawer)
    expect(page.get_by_role("status").filter(has_text=f"{task_id} response successful")).to_be_visible()
    expect(row).to_contain_text(received)
    expect(drawer).to_be_hidden()
    screenshots.take(page, f"{task_id}-answered")


def test_a_person_answers_the_approval_example_in_required_actions(
    page: Page, deployment: AirflowDeployment, sandbox: FlyteSandbox, screenshots: Screenshots
) -> None:
    dag_id, title = "example_flyte_approval", "Numbers seen in a browser"
    run_id = trigger_in_ui(page, dag_id, screenshots)

    def approve(drawer: Locator) -> None:
        expect(drawer).to_contain_text("approve to publish the report")
        drawer.get_by_role("button", name="Approve").click()

    def name_it(drawer: Locator) -> None:
        expect(drawer).to_contain_text("Title of the weekly report")
        form_field(drawer, "title").get_by_role("textbox").fill(title)
        drawer.get_by_role("button", name="OK").click()

    answer_in_required_actions(page, deployment, run_id, "approve_report", approve, "Approval Received", screenshots)
    answer_in_required_actions(page, deployment, run_id, "name_report", name_it, "Response Received", screenshots)
    state = deployment.wait_for_run(dag_id, run_id, RUN_SECONDS)
    page.goto(f"/dags/{dag_id}/runs/{run_id}")
    screenshots.take(page, "run")
    assert state == "success", deployment.task_states(dag_id, run_id)
    named: dict[str, Any] = deployment.xcom(dag_id, run_id, "name_report")
    assert (named["decision"], named["value"]) == ("set", title), named
    execution_id = deployment.xcom(dag_id, run_id, "start_gated_publish")
    with FlyteRemote(sandbox.config, PROJECT, DOMAIN) as remote:
        execution = remote.fetch_execution(name=execution_id.rsplit(":", 1)[1])
    assert execution.phase_name == "SUCCEEDED"
    assert execution.outputs["o0"].startswith(title)


def test_the_trigger_dialog_runs_the_backfill_example(
    page: Page, deployment: AirflowDeployment, screenshots: Screenshots
) -> None:
    """The example whose range comes from the run's data interval, triggered from the UI (the interval is set)."""
    dag_id = "example_flyte_backfill"
    run_id = trigger_in_ui(page, dag_id, screenshots)
    state = deployment.wait_for_run(dag_id, run_id, RUN_SECONDS * 2)
    page.goto(f"/dags/{dag_id}/runs/{run_id}")
    screenshots.take(page, "run")
    assert state == "success", f"{deployment.task_states(dag_id, run_id)}\n{deployment.task_logs(dag_id, run_id)}"
    replay = deployment.xcom(dag_id, run_id, "replay_three_days")
    assert (replay["phase"], len(replay["children"])) == ("SUCCEEDED", 3), replay
