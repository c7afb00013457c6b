"""The literal codec: Python values <-> ``flyteidl.core.Literal``, guided by the declared ``LiteralType``.

One codec for the sync and async clients, the remote layer, the operators and the sandbox. It writes the same bytes
as flytekit 1.16 (``SerializeToString(deterministic=True)`` equal) for the same declared type, without importing
flytekit:

========================================  =================================================================
Declared type                             Python values accepted
========================================  =================================================================
``INTEGER``                               ``int`` (not ``bool``), 64-bit range
``FLOAT``                                 ``float``; an ``int`` when ``float(i)`` is exact (flytekit rejects)
``STRING`` / ``BOOLEAN``                  ``str`` / ``bool`` (an ``int`` is not a bool)
``DATETIME``                              ``datetime`` (a naive one is taken as **UTC**; flytekit uses local
                                          time); ``date`` -> midnight UTC
``DURATION``                              ``timedelta``
``NONE``                                  ``None``
``collection_type`` / ``map_value_type``  ``list`` (or tuple) / ``dict`` with ``str`` keys
``union_type`` (``Optional[...]`` too)    a value fitting exactly one variant (flytekit's rules first, then
                                          this codec's conveniences); the variant tag is flytekit's
``enum_type``                             an ``Enum`` member or its string value
``blob`` (files, directories)             a remote URI (kept), a local path (uploaded via ``uploader``),
                                          ``pathlib.Path``, :class:`FlyteFile` / :class:`FlyteDirectory`
``structured_dataset_type``               :class:`StructuredDataset` (URI + format; declared columns copied)
``STRUCT`` (dict, dataclass, model)       ``dict``, dataclass or pydantic model -> msgpack ``Binary``
``typing.Literal[...]`` annotations       one of the listed values
========================================  =================================================================

Reading returns the natural Python forms (aware UTC datetimes, lists, dicts, :class:`FlyteFile`...), also reads the
older ``Struct`` form of dicts and dataclasses, and rebuilds a ``python_type`` on request. Offloaded literals are not
fetched: reading one raises an error naming its URI. Files, directories and datasets nested inside dataclasses are
written as plain values, not as flytekit's file objects.

Each declared type is compiled once into a writer and a reader, and each Python class (dataclass, enum, model) into
an encoder and a rebuilding plan; all are cached for the process, bounded and keyed by types, never by values
(:func:`~airflow_provider_flyte.literals.codec.clear_caches` empties them). The per-call cost left is finding the
compiled converter by the declared type's wire form (10 µs for a dataclass type carrying its JSON schema; reading
a msgpack value of a ``STRUCT`` type skips it); a :class:`Codec` made once for a type skips even that.

Errors are :class:`~airflow_provider_flyte.exceptions.FlyteInvalidInputException` naming the input, the expected type
(:func:`literal_type_to_str`) and what was given. :func:`to_json_able` prepares decoded values for Airflow XCom.
"""

from __future__ import annotations

from airflow_provider_flyte.literals.codec import Codec, to_literal, to_python
from airflow_provider_flyte.literals.encode import Uploader
from airflow_provider_flyte.literals.interface import (
    Variables,
    declared_types,
    inputs_to_literal_map,
    literal_map_to_python,
)
from airflow_provider_flyte.literals.jsonable import to_json_able
from airflow_provider_flyte.literals.types import literal_type_to_str
from airflow_provider_flyte.literals.values import FlyteDirectory, FlyteErrorValue, FlyteFile, StructuredDataset

__all__ = [
    "Codec",
    "FlyteDirectory",
    "FlyteErrorValue",
    "FlyteFile",
    "StructuredDataset",
    "Uploader",
    "Variables",
    "declared_types",
    "inputs_to_literal_map",
    "literal_map_to_python",
    "literal_type_to_str",
    "to_json_able",
    "to_literal",
    "to_python",
]
