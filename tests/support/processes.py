"""The processes a command started, read from ``/proc`` (Linux): to check that it left none behind."""

from __future__ import annotations

from pathlib import Path


def _stat(pid: int) -> tuple[int, int] | None:
    """``(parent pid, process group)`` of a live process, or ``None`` when it is gone or a zombie."""
    try:
        text = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may contain spaces: the fields after the last ")" are fixed.
    fields = text[text.rindex(")") + 2 :].split()
    state, parent, group = fields[0], int(fields[1]), int(fields[2])
    return None if state in ("Z", "X") else (parent, group)


def _all() -> dict[int, tuple[int, int]]:
    processes = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            found = _stat(int(entry.name))
            if found is not None:
                processes[int(entry.name)] = found
    return processes


def descendants(pid: int) -> dict[int, int]:
    """Every live descendant of ``pid`` (children, their children...), mapped to its process group."""
    processes = _all()
    found: dict[int, int] = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, (child_parent, group) in processes.items():
            if child_parent == parent and child not in found:
                found[child] = group
                frontier.append(child)
    return found


def survivors(pids: set[int], groups: set[int]) -> dict[int, str]:
    """Which of ``pids``, or which members of the process ``groups``, still live, with their command lines."""
    left = {pid for pid, (_, group) in _all().items() if pid in pids or group in groups}
    commands = {}
    for pid in left:
        try:
            commands[pid] = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:200]
        except OSError:
            continue
    return commands
