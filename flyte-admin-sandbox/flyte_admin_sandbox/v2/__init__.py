"""A local Flyte 2 control plane for tests: ``flyteidl2`` services over gRPC and Connect (needs the ``flyte2`` extra).

Stable API (the provider's Flyte 2 client tests rely on it)::

    from flyte_admin_sandbox.v2 import Flyte2Sandbox

    with Flyte2Sandbox(port=0, connect_port=0) as sandbox:
        sandbox.grpc_endpoint       # "127.0.0.1:PORT": plaintext gRPC (grpcio channel + flyteidl2 *_pb2_grpc stubs)
        sandbox.connect_endpoint    # "http://127.0.0.1:PORT": Connect over HTTP/1.1 (the flyte SDK), blobs, console
        sandbox.console_endpoint    # "http://127.0.0.1:PORT/v2"; sandbox.run_url(project, domain, name)
        sandbox.behave("env.task", function=..., outputs=..., fail=..., duration=..., hang=True)
        sandbox.faults.fail("CreateRun", grpc.StatusCode.UNAVAILABLE, times=2)
        sandbox.outage(3.0, engine=True).wait()   # both servers down 3 s (engine=False: a restart); restart()
        sandbox.wait(run_id)        # the stored run once terminal

Constructor: ``Flyte2Sandbox(port=0, connect_port=0, *, host="127.0.0.1", db_path=None, blob_dir=None, seed=True,
domains=("development", "staging", "production"), task_delay=0.05, phase_delay=0.01, max_workers=32)``.

The pytest fixture ``flyte2_sandbox`` (``flyte_admin_sandbox.pytest_plugin``) yields one per test; mark a test with
``@pytest.mark.flyte2_sandbox(task_delay=0.5)`` to pass options.

Served: TaskService, RunService (with the watch streams), DataProxyService, TriggerService, ProjectService
(``flytesnacks`` seeded), AuthMetadataService and IdentityService (no auth), ClusterService (one cluster). Other
RPCs answer UNIMPLEMENTED. See ``docs/sandbox.md``.
"""

from flyte_admin_sandbox.v2.behaviours import Behaviour, TaskFailure
from flyte_admin_sandbox.v2.errors import ServiceError
from flyte_admin_sandbox.v2.server import Flyte2Sandbox

__all__ = ["Behaviour", "Flyte2Sandbox", "ServiceError", "TaskFailure"]
