"""Walking the nodes of a workflow: the nodes nested in branches and array nodes, and the sub-workflows.

One walker for everything that looks inside a workflow definition: the gates that declare signals, the launch plans
a workflow references, the entities a workflow being registered depends on. Nodes come in pre-order: a node, then
the nodes nested in it (a branch's ``case``, its ``other`` cases in order, then its ``else``; an array node's node).

This module takes ``flyteidl`` messages as arguments but imports nothing heavy itself, and never imports Airflow.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flyteidl.core import compiler_pb2
    from flyteidl.core import workflow_pb2 as core_workflow_pb2

__all__ = ["compiled_templates", "iter_nodes", "iter_workflow_nodes"]


def iter_nodes(nodes: Iterable[core_workflow_pb2.Node]) -> Iterator[core_workflow_pb2.Node]:
    """``nodes`` and, recursively, the nodes nested in their branches and array nodes, in pre-order.

    Args:
        nodes: ``core.Node`` messages, such as a workflow template's ``nodes``.
    """
    for node in nodes:
        yield node
        kind = node.WhichOneof("target")
        if kind == "branch_node":
            if_else = node.branch_node.if_else
            nested = [if_else.case.then_node, *(block.then_node for block in if_else.other)]
            if if_else.HasField("else_node"):
                nested.append(if_else.else_node)
            yield from iter_nodes(nested)
        elif kind == "array_node":
            yield from iter_nodes([node.array_node.node])


def compiled_templates(compiled: compiler_pb2.CompiledWorkflowClosure) -> list[core_workflow_pb2.WorkflowTemplate]:
    """The primary template of a compiled workflow followed by those of its sub-workflows.

    Args:
        compiled: An ``admin.Workflow``'s ``closure.compiled_workflow``.
    """
    return [compiled.primary.template, *(sub.template for sub in compiled.sub_workflows)]


def iter_workflow_nodes(
    templates: Iterable[core_workflow_pb2.WorkflowTemplate],
) -> Iterator[core_workflow_pb2.Node]:
    """Every node of every template (see :func:`iter_nodes`), template after template.

    Args:
        templates: Workflow templates, such as :func:`compiled_templates` or a ``WorkflowSpec``'s template and
            sub-workflows.
    """
    for template in templates:
        yield from iter_nodes(template.nodes)
