"""Griffe extension preparing our docstrings for the documentation site's API reference (mkdocstrings).

The docstrings are Google style with Sphinx markup (what ``help()`` and IDEs show well): cross-reference roles
(``:class:`~pkg.Name```), literal blocks introduced by ``::``, simple tables (``====  ====``). mkdocstrings renders
docstrings as Markdown, so once a package is loaded this extension rewrites, in every docstring the site shows:

* a role whose target is documented on the site into a cross-reference (``[`Name`][pkg.module.Name]``, checked by
  ``mkdocs build --strict``), any other role into inline code; a target in our packages that does not exist is
  reported as a warning, which fails the strict build;
* a ``::`` literal block into a fenced code block (``python`` when it parses as Python);
* a simple table into a Markdown table (a list when it has no header).

It also shapes what each page shows, following the rule "every public name, once":

* a public class gets the public members it inherits from private bases (``FlyteRemote``'s mixins) as its own;
* a name a module re-exports from a private module is documented on that module's page; one re-exported from another
  documented module is listed in a table linking to its page instead of being documented twice;
* dunder members, module loggers and attributes that only repeat a constructor parameter or an ``Attributes:``
  entry are left out; so are modules without a page (from package summaries).

The documented modules are those with a page under ``docs/api/`` (``docs/api/<dotted.module.path>.md``). The source
files are not touched. Loaded by ``mkdocs.yml`` (mkdocstrings' Python handler, ``extensions``).
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path
from typing import Any

import griffe

API_DIR = Path(__file__).resolve().parent.parent / "docs" / "api"
OUR_PACKAGES = ("airflow_provider_flyte", "flyte_admin_sandbox")

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|data|attr|exc|obj|const|type):`(?P<body>[^`]+)`")
_TITLED = re.compile(r"^(?P<title>.*?)\s*<(?P<target>[^<>]+)>$")
_BORDER = re.compile(r"^\s*=+(?: +=+)+\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")

_log = griffe.logger  # mkdocstrings routes it to mkdocs: a warning fails the strict build


def documented_modules(api_dir: Path = API_DIR) -> set[str]:
    """The modules that have a page on the site: the stems of ``docs/api/*.md``."""
    return {page.stem for page in api_dir.glob("*.md")}


class RstMarkup(griffe.Extension):
    """Prepare our packages' docstrings for mkdocstrings, once a package is loaded."""

    def __init__(self, api_dir: str | None = None) -> None:
        super().__init__()
        self.documented = documented_modules(Path(api_dir) if api_dir else API_DIR)
        self.promoted: dict[str, griffe.Alias] = {}
        self.exposed: dict[str, str] = {}  # canonical path -> the public path it is documented under

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """Promote members of private bases, rewrite docstrings, and list re-exported names."""
        if pkg.name not in OUR_PACKAGES:
            return
        objects, shown = self._shown(pkg)
        scopes: dict[int, griffe.Object] = {}
        for cls in objects:
            if cls.is_class and self._rendered(cls):
                for alias in self._promote(cls):
                    scopes.setdefault(id(alias.final_target), cls)
        hidden = [(cls, name) for cls in _walk(pkg) if cls.is_class and id(cls) in shown for name in _repeats(cls)]
        for cls, name in hidden:
            cls.members[name].public = False  # not rendered: a reference to it becomes plain code
        for obj in _walk(pkg):
            scope = scopes.get(id(obj))
            if obj.docstring is not None and (scope is not None or id(obj) in shown):
                obj.docstring.value = self.markdown(scope or obj, obj.docstring.value)
        for cls, name in hidden:
            del cls.members[name]  # also from classes rendered through a re-export, which ignore `public`
        for module in objects:
            if module.is_module:
                self._list_exports(module)

    def _shown(self, pkg: griffe.Module) -> tuple[list[griffe.Object], set[int]]:
        """The objects of documented modules, and the ids of every object the site shows (re-exports included)."""
        for module in _walk(pkg):
            if module.is_module and module.path not in self.documented:
                module.public = False  # no page: left out of the package summaries too
        objects = [obj for obj in _walk(pkg) if obj.module.path in self.documented]
        for obj in objects:
            if obj.is_attribute and obj.parent is not None and obj.parent.is_module and _is_logger(obj):
                obj.public = False
        shown = {id(obj) for obj in objects}
        for module in objects:
            if module.is_module:
                for target in self._expose(module):
                    shown |= {id(obj) for obj in _walk(target)}
        return objects, shown

    def _expose(self, module: griffe.Object) -> list[griffe.Object]:
        """The objects of undocumented (private) modules that ``module`` re-exports: documented on its page."""
        exposed = []
        for member in module.members.values():
            if isinstance(member, griffe.Alias) and member.is_public:
                try:
                    target = member.final_target
                except (griffe.AliasResolutionError, griffe.CyclicAliasError):
                    continue
                if not self._rendered(target) and target.path not in self.exposed:
                    self.exposed[target.path] = member.path
                    exposed.append(target)
        return exposed

    def markdown(self, obj: griffe.Object, text: str) -> str:
        """``text`` (a docstring in the scope of ``obj``) with its reStructuredText markup rewritten as Markdown."""
        text = _literal_blocks(_tables(text))  # tables first: their columns are found by character positions
        return _ROLE.sub(lambda match: self._role(obj, match["body"]), text)

    def _promote(self, cls: griffe.Object) -> list[griffe.Alias]:
        """Make the public members ``cls`` inherits from undocumented bases (private mixins) its own members.

        ``FlyteRemote`` gets its methods from one private mixin per concern; without this its page would show none
        of them.
        """
        promoted = []
        for name, inherited in cls.inherited_members.items():
            try:
                target = inherited.final_target
            except (griffe.AliasResolutionError, griffe.CyclicAliasError):
                continue
            owner = target.parent
            if owner is None or owner.path.split(".", 1)[0] not in OUR_PACKAGES or self._rendered(owner):
                continue
            if not target.is_public or name.startswith("_"):
                continue
            alias = griffe.Alias(name, target, parent=cls)  # type: ignore[arg-type]
            cls.set_member(name, alias)
            self.promoted[alias.path] = alias
            promoted.append(alias)
        return promoted

    def _list_exports(self, module: griffe.Object) -> None:
        """Render a module's re-exports as a table linking to where they are documented, not a second time."""
        rows = []
        for name, member in module.members.items():
            if not (isinstance(member, griffe.Alias) and member.is_public):
                continue
            try:
                target = member.final_target
            except (griffe.AliasResolutionError, griffe.CyclicAliasError):
                continue
            if target.module.path == module.path or not self._rendered(target):
                continue
            member.public = False
            summary = " ".join(target.docstring.value.split("\n\n", 1)[0].split()) if target.docstring else ""
            rows.append(_row([f"[`{name}`][{target.path}]", f"`{target.module.path}`", summary]))
        if rows:
            table = "\n".join(
                [
                    "Exported names, documented where they are defined:",
                    "",
                    "| Name | Module | Summary |",
                    "|---|---|---|",
                    *rows,
                ]
            )
            if module.docstring is None:
                module.docstring = griffe.Docstring(table, parent=module)
            else:
                module.docstring.value = f"{module.docstring.value}\n\n{table}"

    def _role(self, obj: griffe.Object, body: str) -> str:
        body = " ".join(body.split())  # a role may wrap over lines
        match = _TITLED.match(body)
        target = match["target"] if match else body
        no_link = target.startswith("!")
        target = target.lstrip("!~")
        title = match["title"] if match else body.lstrip("!~").lstrip(".")
        if body.startswith("~"):
            title = title.rsplit(".", 1)[-1]
        path = None if no_link else self._resolve(obj, target)
        return f"[`{title}`][{path}]" if path else f"`{title}`"

    def _resolve(self, obj: griffe.Object, target: str) -> str | None:
        """The documented object ``target`` names from ``obj``'s scope, or ``None`` when it has no page here."""
        if target.startswith("."):  # Sphinx: a name in the current module's package, or in one of its parents
            parts = obj.module.path.split(".")
            candidates = [".".join([*parts[:n], target.lstrip(".")]) for n in range(len(parts), 0, -1)]
            path = next((c for c in candidates if _exists(obj, c)), candidates[0])
        elif target.split(".", 1)[0] in OUR_PACKAGES:
            path = target
        else:
            head, _, rest = target.partition(".")
            try:
                path = obj.resolve(head) + (f".{rest}" if rest else "")
            except griffe.NameResolutionError:
                return None  # a built-in or a name of another library
        if path.split(".", 1)[0] not in OUR_PACKAGES:
            return None
        try:
            found: griffe.Object | griffe.Alias = obj.modules_collection[path]
            if found.path in self.promoted:
                return path
            if isinstance(found, griffe.Alias):
                found = found.final_target
        except (KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError):
            _log.warning("%s: cross-reference to %s: no such object", obj.path, target)
            return None
        return self._anchor(found)

    def _anchor(self, obj: griffe.Object | griffe.Alias) -> str | None:
        """The path ``obj`` is documented under on the site, or ``None`` when it is not documented."""
        if self._rendered(obj):
            return obj.path
        node: griffe.Object | griffe.Alias | None = obj
        members: list[str] = []
        while node is not None and not node.is_module:
            if node.path in self.exposed:
                return ".".join([self.exposed[node.path], *reversed(members)])
            if not node.is_public:
                return None
            members.append(node.name)
            node = node.parent
        return None

    def _rendered(self, obj: griffe.Object | griffe.Alias) -> bool:
        """Whether ``obj`` gets an anchor on the site: a public object of a documented module, public all the way."""
        if obj.module.path not in self.documented:
            return False
        node: griffe.Object | griffe.Alias | None = obj
        while node is not None and not node.is_module:
            if not node.is_public or (node.is_function and node.name == "__init__"):
                return False
            node = node.parent
        return True


def _is_logger(attribute: griffe.Object) -> bool:
    return str(getattr(attribute, "value", "")) == "logging.getLogger(__name__)"


def _repeats(cls: griffe.Object) -> list[str]:
    """Members not to show: dunders (the public name rule) and undocumented attributes the class docstring covers."""
    described = _described_attributes(cls)
    return [
        name
        for name, member in cls.members.items()
        if (name.startswith("__") and name.endswith("__") and name not in ("__init__", "__call__"))
        or (member.is_attribute and member.docstring is None and name in described)  # `self.x = x`
    ]


def _described_attributes(cls: griffe.Object) -> set[str]:
    """Names the class docstring describes (Attributes section) or its constructor takes as parameters."""
    names: set[str] = set()
    init = cls.members.get("__init__")
    if isinstance(init, griffe.Function):
        names |= {parameter.name for parameter in init.parameters}
    if cls.docstring is not None:
        for section in griffe.parse_google(cls.docstring, warnings=False):
            if section.kind is griffe.DocstringSectionKind.attributes:
                names |= {attribute.name for attribute in section.value}
    return names


def _exists(obj: griffe.Object, path: str) -> bool:
    try:
        obj.modules_collection[path]
    except KeyError:
        return False
    return True


def _walk(obj: griffe.Object) -> list[griffe.Object]:
    found = [obj]
    for member in obj.members.values():
        if not member.is_alias:
            found += _walk(member)  # type: ignore[arg-type]
    return found


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _literal_blocks(text: str) -> str:
    """Turn ``paragraph::`` + an indented block into ``paragraph:`` + a fenced code block."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    in_fence = False
    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            in_fence = not in_fence
        if in_fence or not line.rstrip().endswith("::"):
            out.append(line)
            i += 1
            continue
        base = _indent(line)
        start = i + 1
        while start < len(lines) and not lines[start].strip():
            start += 1
        end = start
        while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > base):
            end += 1
        while end > start and not lines[end - 1].strip():
            end -= 1
        if end == start:  # no indented block follows: not a literal block
            out.append(line)
            i += 1
            continue
        intro = line.rstrip()[:-2]
        if intro.strip():
            out.append(intro.rstrip() + ("" if intro.endswith(" ") else ":"))
        block = lines[start:end]
        i = end
        code = textwrap.dedent("\n".join(block))
        pad = " " * base
        out += ["", f"{pad}```{_language(code)}", *(pad + row if row else "" for row in code.split("\n")), f"{pad}```"]
    return "\n".join(out)


def _language(code: str) -> str:
    try:
        ast.parse(code)
    except SyntaxError:
        return "text"
    return "python"


def _tables(text: str) -> str:
    """Turn reStructuredText simple tables into Markdown tables."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not _BORDER.match(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        end = i + 1
        borders = [i]
        while end < len(lines) and lines[end].strip() and len(borders) < 3:
            if _BORDER.match(lines[end]):
                borders.append(end)
            end += 1
        if len(borders) < 2:  # a line of "=" runs, not a table
            out.append(lines[i])
            i += 1
            continue
        columns = [(m.start(), m.end()) for m in re.finditer(r"=+", lines[i])]
        header = _rows(lines[borders[0] + 1 : borders[1]], columns) if len(borders) == 3 else []
        body = _rows(lines[borders[-2] + 1 : borders[-1]], columns)
        pad = " " * _indent(lines[i])
        if header:
            out += [pad + _row(header[0]), pad + "|" + "---|" * len(columns)]
            out += [pad + _row(row) for row in header[1:] + body]
        else:  # a Markdown table needs a header: a list reads better than an empty one
            out += [f"{pad}- {row[0]}: {' - '.join(row[1:])}" for row in body]
        i = borders[-1] + 1
    return "\n".join(out)


def _rows(lines: list[str], columns: list[tuple[int, int]]) -> list[list[str]]:
    """Cells per row. A line with a blank first cell continues the row above it; a line with only a first cell is
    the start of the row below it."""
    rows: list[list[str]] = []
    carry: list[str] | None = None
    for line in lines:
        cells = []
        for n, (start, _) in enumerate(columns):
            stop = len(line) if n == len(columns) - 1 else columns[n + 1][0]
            cells.append(line[start:stop].strip())
        if carry is not None:
            cells = [" ".join(filter(None, pair)) for pair in zip(carry, cells, strict=True)]
            carry = None
        if not cells[0] and rows:
            rows[-1] = [" ".join(filter(None, pair)) for pair in zip(rows[-1], cells, strict=True)]
        elif cells[0] and not any(cells[1:]):
            carry = cells
        else:
            rows.append(cells)
    if carry is not None:
        rows.append(carry)
    return rows


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"
