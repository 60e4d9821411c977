"""Declarative validation of client payloads with the service's error forms (docs/protocol.md §2, §6.1).

A schema is a tree of :class:`Check` nodes. ``check(value, path)`` returns the (possibly normalised) value or
raises a :class:`~mockrt.core.errors.ProtocolError` naming the dotted ``param`` path, exactly like the
service's ``unknown_parameter`` / ``missing_required_parameter`` / ``invalid_type`` / ``invalid_value`` /
range errors. Validation is total: a payload is accepted whole or rejected whole (§2.1).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mockrt.core import errors


def json_kind(value: object) -> str:
    """The service's name for a JSON value's type, with its article."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "an unknown value"


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class Check:
    """Base of all schema nodes."""

    expected = "a value"

    def check(self, value: Any, path: str) -> Any:
        raise NotImplementedError

    def nullable(self) -> Check:
        return Nullable(self)


class AnyValue(Check):
    def check(self, value: Any, path: str) -> Any:
        return value


class Str(Check):
    expected = "a string"

    def __init__(self, max_len: int | None = None, choices: Sequence[str] | None = None) -> None:
        self.max_len = max_len
        self.choices = tuple(choices) if choices is not None else None

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            raise errors.invalid_type(path, self.expected, json_kind(value))
        if self.choices is not None and value not in self.choices:
            raise errors.invalid_value(value, self.choices, path)
        if self.max_len is not None and len(value) > self.max_len:
            raise errors.string_too_long(path, self.max_len, len(value))
        return value


def Enum(*choices: str) -> Str:
    return Str(choices=choices)


class Bool(Check):
    expected = "a boolean"

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, bool):
            raise errors.invalid_type(path, self.expected, json_kind(value))
        return value


class Int(Check):
    expected = "an integer"

    def __init__(self, lo: int | None = None, hi: int | None = None) -> None:
        self.lo, self.hi = lo, hi

    def check(self, value: Any, path: str) -> Any:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise errors.invalid_type(path, self.expected, json_kind(value))
        if self.lo is not None and value < self.lo:
            raise errors.out_of_range(path, value, self.lo, integer=True, above=False)
        if self.hi is not None and value > self.hi:
            raise errors.out_of_range(path, value, self.hi, integer=True, above=True)
        return value


class Num(Check):
    expected = "a decimal"

    def __init__(self, lo: float | None = None, hi: float | None = None) -> None:
        self.lo, self.hi = lo, hi

    def check(self, value: Any, path: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise errors.invalid_type(path, self.expected, json_kind(value))
        if value != value or value in (float("inf"), float("-inf")):
            raise errors.invalid_type(path, self.expected, "a non-finite number")
        if self.lo is not None and value < self.lo:
            raise errors.out_of_range(path, value, self.lo, integer=False, above=False)
        if self.hi is not None and value > self.hi:
            raise errors.out_of_range(path, value, self.hi, integer=False, above=True)
        return float(value)


class Nullable(Check):
    def __init__(self, inner: Check) -> None:
        self.inner = inner
        self.expected = inner.expected

    def check(self, value: Any, path: str) -> Any:
        return None if value is None else self.inner.check(value, path)


class Obj(Check):
    """A JSON object with known keys; unknown keys are ``unknown_parameter`` errors."""

    expected = "an object"

    def __init__(
        self,
        fields: Mapping[str, Check],
        required: Sequence[str] = (),
        extra: Check | None = None,
        max_keys: int | None = None,
    ) -> None:
        self.fields = dict(fields)
        self.required = tuple(required)
        self.extra = extra  # schema for free-form keys (e.g. metadata); None = reject unknown keys
        self.max_keys = max_keys

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            raise errors.invalid_type(path, self.expected, json_kind(value))
        out: dict[str, Any] = {}
        for key, sub in value.items():
            spec = self.fields.get(key)
            if spec is None:
                if self.extra is None:
                    raise errors.unknown_parameter(join(path, key))
                spec = self.extra
            out[key] = spec.check(sub, f"{path}.{key}" if path else key)  # join() inline: every field of every event
        for key in self.required:
            if key not in value:
                raise errors.missing_required_parameter(join(path, key))
        if self.max_keys is not None and len(value) > self.max_keys:
            raise errors.ProtocolError(
                f"Invalid '{path}': object has too many properties. Expected at most {self.max_keys}, "
                f"but got {len(value)} instead.",
                "object_above_max_properties",
                path,
            )
        return out


class Arr(Check):
    def __init__(self, item: Check, max_len: int | None = None, min_len: int | None = None) -> None:
        self.item = item
        self.max_len = max_len
        self.min_len = min_len
        self.expected = "an array of objects" if isinstance(item, Obj | Union) else "an array"

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, list):
            raise errors.invalid_type(path, self.expected, json_kind(value))
        if self.max_len is not None and len(value) > self.max_len:
            raise errors.array_too_long(path, self.max_len, len(value))
        if self.min_len is not None and len(value) < self.min_len:
            raise errors.ProtocolError(
                f"Invalid '{path}': empty array. Expected an array with minimum length {self.min_len}, "
                f"but got an empty array instead.",
                "empty_array",
                path,
            )
        return [self.item.check(v, join(path, i)) for i, v in enumerate(value)]


class Union(Check):
    """An object discriminated by a string key (``type`` by default)."""

    expected = "an object"

    def __init__(self, variants: Mapping[str, Check], key: str = "type", default: str | None = None) -> None:
        self.variants = dict(variants)
        self.key = key
        self.default = default

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            raise errors.invalid_type(path, self.expected, json_kind(value))
        tag = value.get(self.key, self.default)
        if tag is None:
            raise errors.missing_required_parameter(join(path, self.key))
        if not isinstance(tag, str):
            raise errors.invalid_type(join(path, self.key), "a string", json_kind(tag))
        variant = self.variants.get(tag)
        if variant is None:
            raise errors.invalid_value(tag, list(self.variants), join(path, self.key))
        return variant.check(value, path)


class OneOf(Check):
    """The first alternative whose type fits (``int | "inf"``, ``str | object``)."""

    def __init__(self, *alternatives: Check, expected: str | None = None) -> None:
        self.alternatives = alternatives
        self.expected = expected or " or ".join(a.expected for a in alternatives)

    def check(self, value: Any, path: str) -> Any:
        last: errors.ProtocolError | None = None
        for alt in self.alternatives:
            try:
                return alt.check(value, path)
            except errors.ProtocolError as exc:
                if exc.code != "invalid_type":
                    last = exc if last is None else last
                continue
        if last is not None:
            raise last
        raise errors.invalid_type(path, self.expected, json_kind(value))


class Const(Check):
    def __init__(self, value: str) -> None:
        self.value = value
        self.expected = "a string"

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            raise errors.invalid_type(path, self.expected, json_kind(value))
        if value != self.value:
            raise errors.invalid_value(value, [self.value], path)
        return value


class Custom(Check):
    """Wrap a schema with an extra rule applied after it passes."""

    def __init__(self, inner: Check, rule: Callable[[Any, str], Any]) -> None:
        self.inner = inner
        self.rule = rule
        self.expected = inner.expected

    def check(self, value: Any, path: str) -> Any:
        return self.rule(self.inner.check(value, path), path)


MAX_TOKENS = OneOf(Int(1, 4096), Const("inf"), expected="an integer or 'inf'")
METADATA = Obj({}, extra=Str(max_len=512), max_keys=16)
