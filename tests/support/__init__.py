"""Helpers shared by the test modules, imported as ``tests.support.<module>`` (never through a ``conftest``).

The ``conftest.py`` files hold only fixtures; what a test module needs besides fixtures lives here:

* ``airflow_env``: the isolated Airflow home of ``tests/airflow`` (set up when first imported) and connection helpers;
* ``airflow_fakes``: stand-ins for what FlyteOperator reads from an Airflow task context;
* ``clients``: one test body driving either friendly client, and retry backoff recorded instead of slept;
* ``polling``: ``wait_until`` / ``wait_until_async``, the one poll-until helper;
* ``sandboxes``: ``new_sandbox``, the one way the fixtures make a sandbox.
"""
