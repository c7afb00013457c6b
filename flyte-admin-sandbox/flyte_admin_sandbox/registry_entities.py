"""Named entities and description entities.

Named entities are the names of tasks, workflows and launch plans with their metadata (description, state:
archived, system generated); description entities are the descriptions registered with a task or workflow version.
"""

from __future__ import annotations

import sqlite3

from flyteidl.admin import common_pb2, description_entity_pb2
from flyteidl.core import identifier_pb2

from flyte_admin_sandbox.common import list_page, require, sort_of, where_query
from flyte_admin_sandbox.errors import entity_not_found, invalid, invalid_argument, missing_argument, not_found
from flyte_admin_sandbox.filters import DESCRIPTION_ENTITY, NAMED_ENTITY, check_limit, format_timestamp
from flyte_admin_sandbox.registry_base import RT, RegistryBase
from flyte_admin_sandbox.store import now

_TABLE_OF = {RT.TASK: "tasks", RT.WORKFLOW: "workflows", RT.LAUNCH_PLAN: "launch_plans"}

FLYTEGEN_PREFIX = ".flytegen."
"""The name prefix of the workflow and launch plan generated to run a single task (hidden from name lists)."""


class NamedEntities(RegistryBase):
    """Flyte Admin's named entity and description entity managers."""

    def ListNamedEntities(self, request: common_pb2.NamedEntityListRequest) -> common_pb2.NamedEntityList:
        """Entity names of one resource type, with their metadata; ``.flytegen`` skeletons hidden by default."""
        require(request.project, "project")
        require(request.domain, "domain")
        check_limit(request.limit)
        if request.resource_type == RT.UNSPECIFIED:
            raise invalid_argument("resource_type")
        if request.resource_type not in _TABLE_OF:
            raise invalid(f"Cannot list entity names for resource type: {RT.Name(request.resource_type)}")
        query = where_query(NAMED_ENTITY, project=request.project, domain=request.domain).equals(
            "resource_type", request.resource_type
        )
        filters = request.filters or "not_like(name,.flytegen%)"
        entities, token = list_page(
            self.store,
            query,
            limit=request.limit,
            token=request.token,
            rpc="ListNamedEntities",
            sort_by=sort_of(request),
            filters=filters,
            convert=self._named_entity_proto,
            tiebreak="name",
        )
        return common_pb2.NamedEntityList(entities=entities, token=token)

    @staticmethod
    def _named_entity_proto(row: sqlite3.Row) -> common_pb2.NamedEntity:
        return common_pb2.NamedEntity(
            resource_type=row["resource_type"],
            id=common_pb2.NamedEntityIdentifier(project=row["project"], domain=row["domain"], name=row["name"]),
            metadata=common_pb2.NamedEntityMetadata(description=row["description"], state=row["state"]),
        )

    def _named_entity_row(self, resource_type: int, identifier: common_pb2.NamedEntityIdentifier) -> sqlite3.Row:
        if resource_type == RT.UNSPECIFIED:
            raise invalid_argument("resource_type")
        for field in ("project", "domain", "name"):
            require(getattr(identifier, field), field)
        row = self.store.one(
            "SELECT * FROM named_entities WHERE resource_type = ? AND project = ? AND domain = ? AND name = ?",
            (resource_type, identifier.project, identifier.domain, identifier.name),
        )
        if row is None:
            raise not_found("entry not found")
        return row

    def GetNamedEntity(self, request: common_pb2.NamedEntityGetRequest) -> common_pb2.NamedEntity:
        """One entity name with its metadata (description, state)."""
        return self._named_entity_proto(self._named_entity_row(request.resource_type, request.id))

    def UpdateNamedEntity(self, request: common_pb2.NamedEntityUpdateRequest) -> common_pb2.NamedEntityUpdateResponse:
        """Set an entity name's description and state (archive it)."""
        if not request.HasField("metadata"):
            raise missing_argument("metadata")
        if request.metadata.state != 0 and request.resource_type not in _TABLE_OF:
            raise invalid(f"Resource [{RT.Name(request.resource_type)}] cannot have its state updated")
        self._named_entity_row(request.resource_type, request.id)
        self.set_named_entity_metadata(request.resource_type, request.id, request.metadata)
        return common_pb2.NamedEntityUpdateResponse()

    def set_named_entity_metadata(
        self, resource_type: int, identifier: common_pb2.NamedEntityIdentifier, metadata: common_pb2.NamedEntityMetadata
    ) -> None:
        """Upsert the metadata row of an entity name."""
        stamp = format_timestamp(now())
        self.store.execute(
            "INSERT INTO named_entity_metadata (created_at, updated_at, resource_type, project, domain, name, "
            "description, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (resource_type, project, domain, name) "
            "DO UPDATE SET description = excluded.description, state = excluded.state, "
            "updated_at = excluded.updated_at",
            (
                stamp,
                stamp,
                resource_type,
                identifier.project,
                identifier.domain,
                identifier.name,
                metadata.description,
                metadata.state,
            ),
        )

    # Description entities ----------------------------------------------------------------------------------------

    def _insert_description(
        self,
        resource_type: identifier_pb2.ResourceType,
        identifier: identifier_pb2.Identifier,
        description: description_entity_pb2.DescriptionEntity,
    ) -> None:
        entity = description_entity_pb2.DescriptionEntity()
        entity.CopyFrom(description)
        entity.id.CopyFrom(identifier)
        entity.id.resource_type = resource_type
        self.store.execute(
            "INSERT OR REPLACE INTO description_entities (created_at, updated_at, resource_type, project, domain, "
            "name, version, short_description, long_description, link, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                format_timestamp(now()),
                format_timestamp(now()),
                resource_type,
                identifier.project,
                identifier.domain,
                identifier.name,
                identifier.version,
                description.short_description,
                description.long_description.SerializeToString(),
                description.source_code.link,
                entity.SerializeToString(),
            ),
        )

    def GetDescriptionEntity(self, request: common_pb2.ObjectGetRequest) -> description_entity_pb2.DescriptionEntity:
        """The description stored with a task or workflow version."""
        if request.id.resource_type == RT.UNSPECIFIED:
            raise invalid_argument("resource_type")
        for field in ("project", "domain", "name", "version"):
            require(getattr(request.id, field), field)
        row = self.store.one(
            "SELECT body FROM description_entities WHERE resource_type = ? AND project = ? AND domain = ? AND name = ? "
            "AND version = ?",
            (request.id.resource_type, request.id.project, request.id.domain, request.id.name, request.id.version),
        )
        if row is None:
            raise entity_not_found("DESCRIPTION_ENTITY", request.id)
        return description_entity_pb2.DescriptionEntity.FromString(row["body"])

    def ListDescriptionEntities(
        self, request: description_entity_pb2.DescriptionEntityListRequest
    ) -> description_entity_pb2.DescriptionEntityList:
        """Descriptions of every version of one entity name."""
        if request.resource_type == RT.UNSPECIFIED:
            raise invalid_argument("resource_type")
        for field in ("project", "domain", "name"):
            require(getattr(request.id, field), field)
        check_limit(request.limit)
        query = where_query(
            DESCRIPTION_ENTITY,
            resource_type=request.resource_type,
            project=request.id.project,
            domain=request.id.domain,
            name=request.id.name,
        )
        entities, token = list_page(
            self.store,
            query,
            limit=request.limit,
            token=request.token,
            rpc="ListWorkflows",
            sort_by=sort_of(request),
            filters=request.filters,
            convert=lambda row: description_entity_pb2.DescriptionEntity.FromString(row["body"]),
        )
        return description_entity_pb2.DescriptionEntityList(descriptionEntities=entities, token=token)
