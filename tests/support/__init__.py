"""Helpers shared by the test modules, imported as ``tests.support.<module>`` (never through a ``conftest``).

The ``conftest.py`` files hold only fixtures; what a test module needs besides fixtures lives here:

* ``airflow_env``: the isolated Airflow home of ``tests/airflow`` (set up when first imported) and connection helpers;
* ``airflow_fakes``: stand-ins for what FlyteOperator reads from an Airflow task context;
* ``browser``: the Chromium the browser tests drive, its flags and their screenshots (no Playwright import);
* ``clients``: one test body driving either friendly client, and retry backoff recorded instead of slept;
* ``live``: the DAGs, limits and deployment shared by the live tests (``tests/airflow_live/``);
* ``polling``: ``wait_until`` / ``wait_until_async``, the one poll-until helper;
* ``processes``: the processes a command started, from ``/proc``, to check it left none behind;
* ``sandboxes``: ``new_sandbox``, the one way the fixtures make a sandbox.
"""
