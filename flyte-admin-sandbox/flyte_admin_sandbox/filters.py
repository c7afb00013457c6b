"""Flyte Admin's list-filter grammar, sort keys and pagination, translated to SQLite.

A filter string is ``func(field,value)`` expressions joined by ``+``; a field may be prefixed with an entity
(``workflow.name``) when the listed entity allows that join. Fields must be database columns of the entity they name
(the column lists follow Flyte Admin's models), and errors carry Flyte Admin's texts.
"""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass, field

from flyte_admin_sandbox.errors import AdminError, invalid, invalid_argument

_BASE_COLUMNS = ("id", "created_at", "updated_at", "deleted_at")
_EXECUTION_REMAP = {"project": "execution_project", "domain": "execution_domain", "name": "execution_name"}


@dataclass(frozen=True)
class Model:
    """One table as the filter grammar sees it.

    Attributes:
        code: The short code Flyte Admin uses in error texts (``e``, ``w``...).
        prefix: The field prefix naming this entity in filters (``execution``).
        table: The SQLite table.
        columns: Columns a filter or sort key may name.
        remap: Field renames applied after validation (``name`` -> ``execution_name``...).
        timestamps: Columns holding timestamps (filter values are normalized to the stored form).
    """

    code: str
    prefix: str
    table: str
    columns: frozenset[str]
    remap: dict[str, str] = field(default_factory=dict)
    timestamps: frozenset[str] = frozenset({"created_at", "updated_at", "deleted_at"})


def _model(
    code: str,
    prefix: str,
    table: str,
    columns: str,
    remap: dict[str, str] | None = None,
    extra_timestamps: str = "",
    base: bool = True,
) -> Model:
    names = set(columns.split())
    if base:
        names.update(_BASE_COLUMNS)
    stamps = {"created_at", "updated_at", "deleted_at", *extra_timestamps.split()}
    return Model(code, prefix, table, frozenset(names), remap or {}, frozenset(stamps))


TASK = _model("t", "task", "tasks", "project domain name version closure digest type short_description")
WORKFLOW = _model(
    "w",
    "workflow",
    "workflows",
    "project domain name version typed_interface remote_closure_identifier digest short_description",
)
LAUNCH_PLAN = _model(
    "l",
    "launch_plan",
    "launch_plans",
    "project domain name version spec workflow_id closure state digest schedule_type launch_condition_type",
)
EXECUTION = _model(
    "e",
    "execution",
    "executions",
    "execution_project execution_domain execution_name launch_plan_id workflow_id task_id phase closure spec "
    "started_at execution_created_at execution_updated_at duration abort_cause mode source_execution_id "
    "parent_node_execution_id cluster inputs_uri user_inputs_uri error_kind error_code user state launch_entity",
    _EXECUTION_REMAP,
    "started_at execution_created_at execution_updated_at",
)
NODE_EXECUTION = _model(
    "ne",
    "node_execution",
    "node_executions",
    "execution_project execution_domain execution_name node_id phase input_uri closure started_at "
    "node_execution_created_at node_execution_updated_at duration node_execution_metadata parent_id "
    "parent_task_execution_id error_kind error_code cache_status dynamic_workflow_remote_closure_reference "
    "internal_data",
    _EXECUTION_REMAP,
    "started_at node_execution_created_at node_execution_updated_at",
)
TASK_EXECUTION = _model(
    "te",
    "task_execution",
    "task_executions",
    "project domain name version execution_project execution_domain execution_name node_id retry_attempt phase "
    "phase_version input_uri closure started_at task_execution_created_at task_execution_updated_at duration",
    _EXECUTION_REMAP,
    "started_at task_execution_created_at task_execution_updated_at",
)
NAMED_ENTITY = _model(
    "nen", "entities", "named_entities", "resource_type project domain name description state", base=False
)
NAMED_ENTITY_METADATA = _model(
    "nem", "named_entity_metadata", "named_entity_metadata", "resource_type project domain name description state"
)
PROJECT = _model("p", "project", "projects", "identifier name description labels state")
SIGNAL = _model(
    "s",
    "signal",
    "signals",
    "execution_project execution_domain execution_name signal_id type value",
    _EXECUTION_REMAP,
)
EXECUTION_TAG = _model(
    "et", "execution_tag", "execution_tags", "execution_project execution_domain execution_name key value"
)
ADMIN_TAG = _model("at", "admin_tag", "execution_tags", "name", {"name": "key"})
DESCRIPTION_ENTITY = _model(
    "d",
    "description_entity",
    "description_entities",
    "resource_type project domain name version short_description long_description link",
)

_BY_PREFIX = {
    model.prefix: model
    for model in (
        TASK,
        WORKFLOW,
        LAUNCH_PLAN,
        EXECUTION,
        NODE_EXECUTION,
        TASK_EXECUTION,
        NAMED_ENTITY,
        NAMED_ENTITY_METADATA,
        PROJECT,
        SIGNAL,
        EXECUTION_TAG,
        ADMIN_TAG,
    )
}

_EXEC_KEY = ("execution_project", "execution_domain", "execution_name")


def _same_execution(outer: str, inner: str) -> str:
    return " AND ".join(f"{inner}.{column} = {outer}.{column}" for column in _EXEC_KEY)


# How a joined entity relates to the listed one: a SQL condition between the listed row (``{o}``) and the joined
# row (``{j}``). Entities not listed here cannot be joined from that primary entity.
_JOINS: dict[str, dict[str, str]] = {
    "executions": {
        "launch_plan": "{j}.id = {o}.launch_plan_id",
        "workflow": "{j}.id = {o}.workflow_id",
        "task": "{j}.id = {o}.task_id",
        "admin_tag": _same_execution("{o}", "{j}"),
        "execution_tag": _same_execution("{o}", "{j}"),
    },
    "launch_plans": {"workflow": "{j}.id = {o}.workflow_id"},
    "node_executions": {"execution": _same_execution("{o}", "{j}")},
    "task_executions": {
        "task": "{j}.project = {o}.project AND {j}.domain = {o}.domain AND {j}.name = {o}.name "
        "AND {j}.version = {o}.version",
        "execution": _same_execution("{o}", "{j}"),
        "node_execution": _same_execution("{o}", "{j}") + " AND {j}.node_id = {o}.node_id",
    },
    "named_entities": {
        "named_entity_metadata": "{j}.resource_type = {o}.resource_type AND {j}.project = {o}.project "
        "AND {j}.domain = {o}.domain AND {j}.name = {o}.name"
    },
}

_EXPRESSION = re.compile(r"(.+)\((.+),\s?(.+)\)")
_OPERATORS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "=", "ne": "<>"}
_FUNCTIONS = {*_OPERATORS, "contains", "not_like", "value_in", "value_not_in"}
_DIGITS = frozenset("0123456789")
# Go's duration units, two-letter ones first so that "ms" is not read as "m" followed by "s".
_DURATION_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
_INT64_MIN = -(2**63)  # Go's time.Duration: a signed 64-bit count of nanoseconds
_INT64_MAX = 2**63 - 1


def format_timestamp(moment: datetime.datetime) -> str:
    """The stored form of a timestamp column (UTC, microseconds), which sorts as text in time order."""
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def _normalize_timestamp(value: str) -> str:
    """A timestamp filter value in the stored form; text that is no ISO timestamp is compared as it is.

    Raises:
        AdminError: ``INVALID_ARGUMENT "Failed to parse timestamp [<value>]"`` for a timestamp whose UTC time is
            outside years 1..9999.
    """
    text = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    try:
        return format_timestamp(moment)
    except (OverflowError, ValueError):
        raise invalid(f"Failed to parse timestamp [{value}]") from None


def parse_duration(value: str) -> int:
    """A filter's duration value (float seconds or a Go duration such as ``1m30s``) in nanoseconds.

    Like Go's ``time.Duration`` the result is a signed 64-bit count of nanoseconds: ``inf``, ``nan`` and values
    beyond about 292 years are refused, as Go's ``time.ParseDuration`` refuses them.

    Raises:
        AdminError: ``INVALID_ARGUMENT "Failed to parse duration [<value>]"``.
    """
    text = value.strip()
    nanos = _float_seconds(text)
    if nanos is None:
        nanos = _go_duration(text)
    if nanos is None or not _INT64_MIN <= nanos <= _INT64_MAX:
        raise invalid(f"Failed to parse duration [{value}]")
    return nanos


def _float_seconds(text: str) -> int | None:
    """``text`` as float seconds, in nanoseconds; ``None`` when it is not a finite float."""
    try:
        seconds = float(text)
    except ValueError:
        return None
    nanos = seconds * 10**9
    return int(nanos) if math.isfinite(nanos) else None


def _go_duration(text: str) -> int | None:
    """``text`` as a Go duration (``1h2m3.5s``, optionally signed), in nanoseconds; ``None`` when it is not one.

    A hand-written scan, linear in the text: the regular expression it replaces (adjacent digit runs) backtracked for
    minutes on a few thousand digits with no unit.
    """
    sign = -1 if text.startswith("-") else 1
    body = text[1:] if text[:1] in "+-" else text
    total = 0
    position = 0
    while position < len(body):
        term = _go_duration_term(body, position)
        if term is None:
            return None
        nanos, position = term
        total += nanos
    return sign * total if body else None


def _go_duration_term(body: str, start: int) -> tuple[int, int] | None:
    """One ``<number><unit>`` term of a Go duration at ``start``: its nanoseconds and where the next term starts."""
    end = start
    while end < len(body) and body[end] in _DIGITS:
        end += 1
    if end < len(body) and body[end] == ".":
        end += 1
        while end < len(body) and body[end] in _DIGITS:
            end += 1
    number = body[start:end]
    unit = next((unit for unit in _DURATION_UNITS if body.startswith(unit, end)), None)
    if number in ("", ".") or unit is None:
        return None
    nanos = float(number) * _DURATION_UNITS[unit]
    return (int(nanos), end + len(unit)) if math.isfinite(nanos) else None


@dataclass
class Query:
    """A SELECT over one model, built from request fields, filters, a sort and pagination.

    Attributes:
        model: The listed entity.
        where: SQL conditions joined by AND.
        params: Their parameters, in order.
        order_by: The ORDER BY clause body, empty for none.
    """

    model: Model
    where: list[str] = field(default_factory=list)
    params: list[object] = field(default_factory=list)
    order_by: str = ""

    def equals(self, column: str, value: object) -> Query:
        """Add ``column = value`` (a request identifier field)."""
        self.where.append(f"{self.model.table}.{column} = ?")
        self.params.append(value)
        return self

    def condition(self, sql: str, *params: object) -> Query:
        """Add a raw SQL condition over the listed table."""
        self.where.append(sql)
        self.params.extend(params)
        return self

    def where_sql(self) -> str:
        """The WHERE clause (with the keyword), or an empty string."""
        return f" WHERE {' AND '.join(self.where)}" if self.where else ""

    def apply_filters(self, text: str) -> Query:
        """Parse a filter string and add its conditions.

        Raises:
            AdminError: with Flyte Admin's texts for malformed expressions, unknown functions, disallowed entities
                and unknown fields.
        """
        for sql, params in parse_filters(text, self.model):
            self.where.append(sql)
            self.params.extend(params)
        return self

    def sort(self, key: str, direction: int) -> Query:
        """Order by a column of the listed model (``direction`` 0 = descending, 1 = ascending).

        Raises:
            AdminError: ``invalid sort key '<key>'`` or ``invalid sort order specified: <direction>``.
        """
        if key not in self.model.columns:
            raise invalid(f"invalid sort key '{key}'")
        if direction not in (0, 1):
            raise invalid(f"invalid sort order specified: {direction}")
        self.order_by = f"{self.model.table}.{key} {'DESC' if direction == 0 else 'ASC'}"
        return self


@dataclass(frozen=True)
class Expression:
    """One ``function(field,value)`` expression as Flyte Admin's pattern reads it, before any checking.

    Attributes:
        function: The function name (``eq``, ``value_in``...).
        field: The field, possibly entity-prefixed (``execution.phase``).
        values: The value split on ``;`` (one element for a scalar).
    """

    function: str
    field: str
    values: tuple[str, ...]


def parse_expressions(text: str) -> list[Expression]:
    r"""Split a filter string into its expressions, with Flyte Admin's pattern ``(.+)\((.+),\s?(.+)\)``.

    Raises:
        AdminError: ``INVALID_ARGUMENT "invalid value for filters"`` for an expression the pattern does not match.
    """
    expressions: list[Expression] = []
    if not text:
        return expressions
    for part in text.split("+"):
        groups = split_expression(part.strip())
        if groups is None:
            raise invalid_argument("filters")
        function, field_name, raw_value = groups
        expressions.append(Expression(function.strip(), field_name.strip(), tuple(raw_value.split(";"))))
    return expressions


def split_expression(text: str) -> tuple[str, str, str] | None:
    r"""The groups of ``(.+)\((.+),\s?(.+)\)`` fully matching ``text`` (greedy, as the regex takes them), or ``None``.

    The same result as ``_EXPRESSION.fullmatch(text).groups()`` in time linear in the text: the backtracking regex
    takes cubic time on text with many ``(`` and ``,`` (seconds for a few hundred of them). The greedy groups put
    the split at the last ``,`` that leaves a value (the one before the only line break, which only ``\s?`` may
    match), and at the last ``(`` that leaves a field before it.
    """
    if not text.endswith(")"):
        return None
    body = text[:-1]
    line_breaks = body.count("\n")
    if line_breaks > 1:
        return None
    if line_breaks == 1:
        comma = body.index("\n") - 1
        if comma < 0 or body[comma] != "," or comma + 2 >= len(body):
            return None
    else:
        comma = body.rfind(",", 0, len(body) - 1)
    paren = body.rfind("(", 1, comma - 1) if comma > 0 else -1
    if paren < 1:
        return None
    rest = body[comma + 1 :]
    value = rest[1:] if len(rest) > 1 and rest[0].isspace() else rest
    return body[:paren], body[paren + 1 : comma], value


def parse_filters(text: str, primary: Model) -> list[tuple[str, list[object]]]:
    """Translate a filter string into SQL conditions over ``primary``'s table.

    Returns:
        ``(condition, params)`` pairs.

    Raises:
        AdminError: ``INVALID_ARGUMENT`` with Flyte Admin's texts for every malformed filter (never another error).
    """
    conditions: list[tuple[str, list[object]]] = []
    for expression in parse_expressions(text):
        if expression.function not in _FUNCTIONS:
            raise invalid(f"unrecognized filter function: {expression.function}")
        model, column = _resolve_field(expression.field, primary)
        conditions.append(_condition(expression.function, model, column, _typed(column, model, expression), primary))
    return conditions


def _typed(column: str, model: Model, expression: Expression) -> list[object]:
    """The expression's values as the column stores them (durations in nanoseconds, timestamps normalized)."""
    if column == "duration":
        return [parse_duration(value) for value in expression.values]
    if column in model.timestamps:
        return [_normalize_timestamp(value) for value in expression.values]
    return list(expression.values)


def _resolve_field(field_name: str, primary: Model) -> tuple[Model, str]:
    model = primary
    column = field_name
    prefix, dot, rest = field_name.partition(".")
    if dot and prefix in _BY_PREFIX:
        model, column = _BY_PREFIX[prefix], rest
        if model is not primary and (
            model.prefix not in _JOINS.get(primary.table, {}) and model.table != primary.table
        ):
            raise invalid(f"'{model.code}' entity is not allowed in filters")
    if column not in model.columns:
        raise invalid(f"'{model.code}.{column}' is invalid filter")
    return model, model.remap.get(column, column)


def _condition(
    function: str, model: Model, column: str, values: list[object], primary: Model
) -> tuple[str, list[object]]:
    alias = "j"
    target = f"{alias}.{column}" if model.table != primary.table else f"{primary.table}.{column}"
    if function in ("value_in", "value_not_in"):
        marks = ", ".join("?" for _ in values)
        sql = f"{target} {'IN' if function == 'value_in' else 'NOT IN'} ({marks})"
        params = list(values)
    elif function == "contains":
        sql, params = f"{target} LIKE ?", [f"%{values[0] if len(values) == 1 else ';'.join(map(str, values))}%"]
    elif function == "not_like":
        sql, params = f"{target} NOT LIKE ?", [values[0] if len(values) == 1 else ";".join(map(str, values))]
    else:
        value = values[0] if len(values) == 1 else ";".join(map(str, values))
        sql, params = f"{target} {_OPERATORS[function]} ?", [value]
    if target.startswith(f"{alias}."):
        join = _JOINS[primary.table][model.prefix].format(o=primary.table, j=alias)
        sql = f"EXISTS (SELECT 1 FROM {model.table} AS {alias} WHERE {join} AND {sql})"
    return sql, params


def offset_from_token(token: str, rpc: str) -> int:
    """The offset a pagination token encodes.

    Raises:
        AdminError: ``invalid pagination token <token> for <rpc>``.
    """
    if token == "":
        return 0
    try:
        offset = int(token)
    except ValueError:
        offset = -1
    if offset < 0 or not token.strip().lstrip("+-").isdigit():
        raise invalid(f"invalid pagination token {token} for {rpc}")
    return offset


def next_token(offset: int, count: int, limit: int) -> str:
    """Flyte Admin's next-page token: the next offset when the page is full, else empty."""
    return str(offset + count) if count == limit else ""


def check_limit(limit: int) -> None:
    """``limit`` must be positive.

    Raises:
        AdminError: ``invalid value for limit``.
    """
    if limit <= 0:
        raise invalid_argument("limit")


__all__ = [
    "ADMIN_TAG",
    "DESCRIPTION_ENTITY",
    "EXECUTION",
    "EXECUTION_TAG",
    "LAUNCH_PLAN",
    "NAMED_ENTITY",
    "NAMED_ENTITY_METADATA",
    "NODE_EXECUTION",
    "PROJECT",
    "SIGNAL",
    "TASK",
    "TASK_EXECUTION",
    "WORKFLOW",
    "AdminError",
    "Expression",
    "Model",
    "Query",
    "check_limit",
    "format_timestamp",
    "next_token",
    "offset_from_token",
    "parse_duration",
    "parse_expressions",
    "parse_filters",
    "split_expression",
]
