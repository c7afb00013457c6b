"""flytekit's request-level raw client methods, defined once for the sync and the asyncio raw clients.

``flytekit.clients.raw.RawSynchronousFlyteClient`` has one method per RPC that takes the request message and returns
the response message: ``create_task(task_create_request)``, ``get_execution(get_object_request)``,
``list_projects(project_list_request=None)``, ``get_domains()``... :class:`RawRequestMethods` gives
:class:`~airflow_provider_flyte.clients.raw.RawSynchronousFlyteClient` and
:class:`~airflow_provider_flyte.clients.raw.RawAsyncFlyteClient` the same methods, with flytekit's names and argument
names, from the table in its class body: one :class:`RequestMethod` line per method, naming the stub and the RPC.

A method sends its request through the client's stub, so through the same interceptors (token, per-attempt deadline,
retries, typed exceptions). On the sync client it returns the response; on the asyncio client it returns an awaitable
of it, since that client's stubs do (``await raw.create_task(request)``). A request of the wrong message type fails
before any RPC with a :class:`~airflow_provider_flyte.exceptions.FlyteInvalidInputException` naming the method, the
argument and the expected message; a flytekit model is converted with its ``to_flyte_idl()``.

Example:
    >>> from flyteidl.admin import project_pb2
    >>> with RawSynchronousFlyteClient(PlatformConfig.for_sandbox()) as raw:  # doctest: +SKIP
    ...     projects = raw.list_projects(project_list_request=project_pb2.ProjectListRequest(limit=10))
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final, TypeVar, overload

import grpc
from flyteidl.service import admin_pb2, dataproxy_pb2, signal_pb2
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.protobuf.message import Message

from airflow_provider_flyte.clients.channel import read_ca_bundle
from airflow_provider_flyte.exceptions import FlyteInvalidInputException

if TYPE_CHECKING:
    from airflow_provider_flyte.clients.raw import RawAsyncFlyteClient, RawSynchronousFlyteClient
    from airflow_provider_flyte.configuration import PlatformConfig

_RawT = TypeVar("_RawT", bound="RawRequestMethods")

ADMIN: Final = "admin_service"
SIGNAL: Final = "signal_service"
DATA_PROXY: Final = "data_proxy_service"

SERVICES: Final[dict[str, ServiceDescriptor]] = {
    ADMIN: admin_pb2.DESCRIPTOR.services_by_name["AdminService"],
    SIGNAL: signal_pb2.DESCRIPTOR.services_by_name["SignalService"],
    DATA_PROXY: dataproxy_pb2.DESCRIPTOR.services_by_name["DataProxyService"],
}
"""The raw client's stub attributes these methods call, and the services behind them."""

_POSITIONAL_OR_KEYWORD = inspect.Parameter.POSITIONAL_OR_KEYWORD


class RequestMethod:
    """One request-level method: ``name(argument)`` sends the request on ``service``'s RPC ``rpc``.

    A descriptor: set in a class body, it becomes a method named after its attribute, with the signature
    ``(self, <argument>)`` (``(self, <argument>=None)`` when ``optional``, ``(self)`` when ``argument`` is ``None``).

    Args:
        service: The raw client's stub attribute (``"admin_service"``...).
        rpc: The RPC name on that stub (``"CreateTask"``).
        argument: flytekit's name of the request argument; ``None`` for a method that takes none and sends an empty
            request (``get_domains()``).
        optional: The argument defaults to ``None``, which sends an empty request (``list_projects()``).

    Raises:
        KeyError: at class creation, when ``service`` or ``rpc`` names nothing.
    """

    def __init__(self, service: str, rpc: str, argument: str | None, *, optional: bool = False) -> None:
        self.service = service
        self.rpc = rpc
        self.argument = argument
        self.optional = optional
        self.method: MethodDescriptor = SERVICES[service].methods_by_name[rpc]
        self.request_type: type[Message] = message_factory.GetMessageClass(self.method.input_type)
        self.name = ""
        self.function: Callable[..., Any] = _unbound

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.function = self._build(f"{owner.__qualname__}.{name}")

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> Callable[..., Any]: ...

    @overload
    def __get__(self, instance: RawAsyncFlyteClient, owner: type | None = None) -> Callable[..., Awaitable[Any]]: ...

    @overload
    def __get__(self, instance: RawSynchronousFlyteClient, owner: type | None = None) -> Callable[..., Any]: ...

    def __get__(self, instance: object, owner: type | None = None) -> Callable[..., Any]:
        """The plain function on the class (what ``inspect.signature`` reads), a bound method on an instance."""
        if instance is None:
            return self.function
        return self.function.__get__(instance, owner)  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"RequestMethod({self.name!r} -> {self.service}.{self.rpc})"

    @property
    def signature(self) -> inspect.Signature:
        """The method's signature, ``self`` included (flytekit's)."""
        parameters = [inspect.Parameter("self", _POSITIONAL_OR_KEYWORD)]
        if self.argument is not None:
            default = None if self.optional else inspect.Parameter.empty
            parameters.append(inspect.Parameter(self.argument, _POSITIONAL_OR_KEYWORD, default=default))
        return inspect.Signature(parameters)

    def request(self, value: Any) -> Message:
        """Check (or build, for ``None`` where allowed) the request message this method sends.

        Raises:
            FlyteInvalidInputException: naming the method, the argument and the expected message type.
        """
        if value is None and (self.argument is None or self.optional):
            return self.request_type()
        if not isinstance(value, Message):
            to_flyte_idl = getattr(value, "to_flyte_idl", None)
            value = to_flyte_idl() if callable(to_flyte_idl) else value
        if isinstance(value, Message) and value.DESCRIPTOR.full_name == self.method.input_type.full_name:
            return value
        shown = repr(value).strip()
        got = f"{type(value).__name__} {shown if len(shown) <= 80 else shown[:77] + '...'}".rstrip()
        raise FlyteInvalidInputException(
            f"{self.name}({self.argument}=...) takes a {self.method.input_type.full_name} message (or a model "
            f"converting to one with to_flyte_idl()), got {got}"
        )

    def _build(self, qualname: str) -> Callable[..., Any]:
        signature = self.signature
        argument = self.argument
        service, rpc, request = self.service, self.rpc, self.request

        def method(client: Any, *args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(client, *args, **kwargs)  # Python's own TypeError for a wrong call
            message = request(bound.arguments.get(argument) if argument is not None else None)
            return getattr(getattr(client, service), rpc)(message)

        method.__name__ = self.name
        method.__qualname__ = qualname
        method.__signature__ = signature  # type: ignore[attr-defined]
        method.__doc__ = (
            f"Send a ``{self.method.input_type.full_name}`` on ``{SERVICES[service].name}.{rpc}``; return the "
            f"``{self.method.output_type.full_name}`` (awaitable on the asyncio client)."
        )
        return method


def _unbound(*_args: Any, **_kwargs: Any) -> Any:
    raise TypeError("a RequestMethod works only as a class attribute")


class RawRequestMethods:
    """flytekit's request-level methods, shared by the sync and the asyncio raw client; see the module docstring.

    The class body is the table: method name = stub attribute, RPC, flytekit's argument name. flytekit's ``url``
    property and ``with_root_certificate`` constructor come with it.
    """

    config: PlatformConfig

    if TYPE_CHECKING:  # the constructor of the raw clients, as with_root_certificate calls it

        def __init__(self, config: PlatformConfig, *, credentials: grpc.ChannelCredentials | None = None) -> None: ...

    @property
    def url(self) -> str:
        """The Flyte Admin endpoint (``host:port``) this client talks to."""
        return self.config.endpoint

    @classmethod
    def with_root_certificate(cls: type[_RawT], cfg: PlatformConfig, root_cert_file: str) -> _RawT:
        """A client on a TLS channel trusting the PEM certificates in ``root_cert_file`` (flytekit's constructor).

        Args:
            cfg: Where and how to connect; TLS is used whatever ``cfg.insecure`` says, as in flytekit.
            root_cert_file: Path of a PEM file of the CA (or the self-signed certificate) to trust.

        Raises:
            FlyteConfigurationException: naming the path when the file cannot be read or holds no PEM certificate.
        """
        return cls(cfg, credentials=grpc.ssl_channel_credentials(root_certificates=read_ca_bundle(root_cert_file)))

    # tasks
    create_task = RequestMethod(ADMIN, "CreateTask", "task_create_request")
    list_task_ids_paginated = RequestMethod(ADMIN, "ListTaskIds", "identifier_list_request")
    list_tasks_paginated = RequestMethod(ADMIN, "ListTasks", "resource_list_request")
    get_task = RequestMethod(ADMIN, "GetTask", "get_object_request")
    # signals
    set_signal = RequestMethod(SIGNAL, "SetSignal", "signal_set_request")
    list_signals = RequestMethod(SIGNAL, "ListSignals", "signal_list_request")
    # workflows
    create_workflow = RequestMethod(ADMIN, "CreateWorkflow", "workflow_create_request")
    list_workflow_ids_paginated = RequestMethod(ADMIN, "ListWorkflowIds", "identifier_list_request")
    list_workflows_paginated = RequestMethod(ADMIN, "ListWorkflows", "resource_list_request")
    get_workflow = RequestMethod(ADMIN, "GetWorkflow", "get_object_request")
    # launch plans
    create_launch_plan = RequestMethod(ADMIN, "CreateLaunchPlan", "launch_plan_create_request")
    get_launch_plan = RequestMethod(ADMIN, "GetLaunchPlan", "object_get_request")
    get_active_launch_plan = RequestMethod(ADMIN, "GetActiveLaunchPlan", "active_launch_plan_request")
    update_launch_plan = RequestMethod(ADMIN, "UpdateLaunchPlan", "update_request")
    list_launch_plan_ids_paginated = RequestMethod(ADMIN, "ListLaunchPlanIds", "identifier_list_request")
    list_launch_plans_paginated = RequestMethod(ADMIN, "ListLaunchPlans", "resource_list_request")
    list_active_launch_plans_paginated = RequestMethod(
        ADMIN, "ListActiveLaunchPlans", "active_launch_plan_list_request"
    )
    # named entities
    update_named_entity = RequestMethod(ADMIN, "UpdateNamedEntity", "update_named_entity_request")
    # executions
    create_execution = RequestMethod(ADMIN, "CreateExecution", "create_execution_request")
    recover_execution = RequestMethod(ADMIN, "RecoverExecution", "recover_execution_request")
    get_execution = RequestMethod(ADMIN, "GetExecution", "get_object_request")
    get_execution_data = RequestMethod(ADMIN, "GetExecutionData", "get_execution_data_request")
    get_execution_metrics = RequestMethod(ADMIN, "GetExecutionMetrics", "get_execution_metrics_request")
    list_executions_paginated = RequestMethod(ADMIN, "ListExecutions", "resource_list_request")
    terminate_execution = RequestMethod(ADMIN, "TerminateExecution", "terminate_execution_request")
    relaunch_execution = RequestMethod(ADMIN, "RelaunchExecution", "relaunch_execution_request")
    # node executions
    get_node_execution = RequestMethod(ADMIN, "GetNodeExecution", "node_execution_request")
    get_node_execution_data = RequestMethod(ADMIN, "GetNodeExecutionData", "get_node_execution_data_request")
    list_node_executions_paginated = RequestMethod(ADMIN, "ListNodeExecutions", "node_execution_list_request")
    list_node_executions_for_task_paginated = RequestMethod(
        ADMIN, "ListNodeExecutionsForTask", "node_execution_for_task_list_request"
    )
    # task executions
    get_task_execution = RequestMethod(ADMIN, "GetTaskExecution", "task_execution_request")
    get_task_execution_data = RequestMethod(ADMIN, "GetTaskExecutionData", "get_task_execution_data_request")
    list_task_executions_paginated = RequestMethod(ADMIN, "ListTaskExecutions", "task_execution_list_request")
    # projects and domains
    list_projects = RequestMethod(ADMIN, "ListProjects", "project_list_request", optional=True)
    register_project = RequestMethod(ADMIN, "RegisterProject", "project_register_request")
    update_project = RequestMethod(ADMIN, "UpdateProject", "project")
    get_domains = RequestMethod(ADMIN, "GetDomains", None)
    # matchable attributes
    update_project_domain_attributes = RequestMethod(
        ADMIN, "UpdateProjectDomainAttributes", "project_domain_attributes_update_request"
    )
    update_workflow_attributes = RequestMethod(ADMIN, "UpdateWorkflowAttributes", "workflow_attributes_update_request")
    get_project_domain_attributes = RequestMethod(
        ADMIN, "GetProjectDomainAttributes", "project_domain_attributes_get_request"
    )
    get_workflow_attributes = RequestMethod(ADMIN, "GetWorkflowAttributes", "workflow_attributes_get_request")
    list_matchable_attributes = RequestMethod(ADMIN, "ListMatchableAttributes", "matchable_attributes_list_request")
    # data proxy
    create_upload_location = RequestMethod(DATA_PROXY, "CreateUploadLocation", "create_upload_location_request")
    create_download_location = RequestMethod(DATA_PROXY, "CreateDownloadLocation", "create_download_location_request")
    create_download_link = RequestMethod(DATA_PROXY, "CreateDownloadLink", "create_download_link_request")


def request_methods() -> dict[str, RequestMethod]:
    """Every request-level method of the raw clients, by name (for tests and docs)."""
    return {name: value for name, value in vars(RawRequestMethods).items() if isinstance(value, RequestMethod)}
