"""Validation of the standard five-field cron expressions (and ``@hourly``-style macros) launch plans may carry."""

from __future__ import annotations

_MACROS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    (
        "month",
        1,
        12,
        {
            name: index + 1
            for index, name in enumerate(
                ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
            )
        },
    ),
    (
        "day of week",
        0,
        6,
        {name: index for index, name in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])},
    ),
)


class CronError(ValueError):
    """A cron expression is malformed; the message says which field and why."""


def _value(text: str, field: str, low: int, high: int, names: dict[str, int]) -> int:
    lowered = text.lower()
    if lowered in names:
        return names[lowered]
    if not text.isdigit():
        raise CronError(f"failed to parse int from {text}: invalid {field}")
    number = int(text)
    if field == "day of week" and number == 7:
        return 0
    if not low <= number <= high:
        raise CronError(f"{field} value {number} out of range [{low}, {high}]")
    return number


def validate_cron(expression: str) -> None:
    """Check a standard cron expression.

    Raises:
        CronError: naming the bad field.
    """
    text = expression.strip()
    if text.startswith("@"):
        if text.lower() in _MACROS or text.lower().startswith("@every "):
            return
        raise CronError(f"unrecognized descriptor: {text}")
    parts = text.split()
    if len(parts) != 5:
        raise CronError(f"expected exactly 5 fields, found {len(parts)}: {text}")
    for part, (field, low, high, names) in zip(parts, _FIELDS, strict=False):
        for item in part.split(","):
            body, _, step = item.partition("/")
            if step and (not step.isdigit() or int(step) == 0):
                raise CronError(f"invalid step {step!r} in {field}")
            if body in ("*", "?"):
                continue
            start, dash, end = body.partition("-")
            first = _value(start, field, low, high, names)
            if dash and _value(end, field, low, high, names) < first:
                raise CronError(f"beginning of range ({first}) beyond end of range in {field}")
