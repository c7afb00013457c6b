"""Builders for the SignalService: list, set and get-or-create the signals of gate nodes."""

from __future__ import annotations

from typing import Any

from flyteidl.admin import signal_pb2

from airflow_provider_flyte.clients._calls.checks import (
    ExecutionIdentifierLike,
    SortLike,
    _filters,
    _limit,
    _message,
    _token,
    to_execution_id,
    to_sort,
)
from airflow_provider_flyte.clients._calls.core import SIGNAL, Call, _same
from airflow_provider_flyte.clients._calls.pagination import Page, _page
from airflow_provider_flyte.clients.filters import FilterSpec
from airflow_provider_flyte.exceptions import FlyteInvalidInputException


def list_signals(signal_list_request: Any) -> Call[signal_pb2.SignalList]:
    """``ListSignals`` with a ready request (flytekit's raw-client form)."""
    request = _message(signal_list_request, signal_pb2.SignalListRequest, "signal_list_request")
    _limit(request.limit, "signal_list_request.limit")
    return Call(SIGNAL, "ListSignals", request, _same)


def list_signals_paginated(
    workflow_execution_identifier: ExecutionIdentifierLike,
    limit: int,
    token: str | None,
    filters: FilterSpec,
    sort_by: SortLike,
) -> Call[Page[signal_pb2.Signal]]:
    """``ListSignals`` of an execution, as ``(signals, next_token)``."""
    request = signal_pb2.SignalListRequest(
        workflow_execution_id=to_execution_id(workflow_execution_identifier, "workflow_execution_identifier"),
        limit=_limit(limit),
        token=_token(token),
        filters=_filters(filters),
        sort_by=to_sort(sort_by),
    )
    return Call(SIGNAL, "ListSignals", request, _page("signals"))


def set_signal(signal_set_request: Any) -> Call[signal_pb2.SignalSetResponse]:
    """``SetSignal`` with a ready request."""
    request = _message(signal_set_request, signal_pb2.SignalSetRequest, "signal_set_request")
    if not request.id.signal_id:
        raise FlyteInvalidInputException("signal_set_request.id.signal_id is empty")
    return Call(SIGNAL, "SetSignal", request, _same)


def get_or_create_signal(signal_get_or_create_request: Any) -> Call[signal_pb2.Signal]:
    """``GetOrCreateSignal`` with a ready request."""
    request = _message(
        signal_get_or_create_request, signal_pb2.SignalGetOrCreateRequest, "signal_get_or_create_request"
    )
    if not request.id.signal_id:
        raise FlyteInvalidInputException("signal_get_or_create_request.id.signal_id is empty")
    return Call(SIGNAL, "GetOrCreateSignal", request, _same)
