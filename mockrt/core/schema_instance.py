"""A minimal valid instance of a JSON Schema: the default arguments of a forced MCP tool call (docs/protocol.md §9).

When the "model" calls an MCP tool without scripted arguments, it sends the smallest value its input schema
accepts: objects with their required properties only, the first ``const``/``enum`` value, the first ``anyOf`` /
``oneOf`` branch that yields a valid value, ``minItems`` items, 0 (or the nearest bound) for numbers, the shortest
string of a ``format``/``minLength``. Candidates are checked with ``jsonschema``, so a choice that the rest of the
schema rejects falls through to the next one. Pure: no I/O.
"""

from __future__ import annotations

import math
import re
from typing import Any

from jsonschema.validators import validator_for

_MAX_DEPTH = 32
_JSON_TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")
_FORMATS = {
    "date-time": "1970-01-01T00:00:00Z",
    "date": "1970-01-01",
    "time": "00:00:00Z",
    "duration": "P0D",
    "email": "a@example.com",
    "idn-email": "a@example.com",
    "hostname": "example.com",
    "idn-hostname": "example.com",
    "ipv4": "0.0.0.0",
    "ipv6": "::1",
    "uri": "https://example.com",
    "iri": "https://example.com",
    "uri-reference": "https://example.com",
    "iri-reference": "https://example.com",
    "url": "https://example.com",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "regex": ".*",
    "json-pointer": "",
}
# How to lengthen a formatted string without breaking its format (minLength).
_PADDED = {
    "email": lambda n: "a" * max(1, n - len("@example.com")) + "@example.com",
    "uri": lambda n: "https://example.com/" + "a" * max(0, n - len("https://example.com/")),
    "url": lambda n: "https://example.com/" + "a" * max(0, n - len("https://example.com/")),
}


class Unsatisfiable(ValueError):
    """No instance was found (a ``false`` schema, contradictory bounds, an unsupported ``pattern``...)."""


def minimal_instance(schema: Any) -> Any:
    """The smallest value ``schema`` accepts; raises :class:`Unsatisfiable` when none is found."""
    return _Generator(schema).instance(schema, 0)


class _Generator:
    def __init__(self, root: Any) -> None:
        self.root = root
        self.defs = {k: root[k] for k in ("$defs", "definitions") if isinstance(root, dict) and k in root}

    # -- validation of candidates, with the root's local definitions in reach --------------------------

    def valid(self, value: Any, schema: Any) -> bool:
        if isinstance(schema, bool):
            return schema
        full = {**self.defs, **schema} if self.defs else schema
        cls = validator_for(self.root if isinstance(self.root, dict) else {})
        return bool(cls(full, format_checker=cls.FORMAT_CHECKER).is_valid(value))

    def resolve(self, ref: str) -> Any:
        if not ref.startswith("#"):
            raise Unsatisfiable(f"cannot resolve remote $ref {ref!r}")
        node: Any = self.root
        for part in [p for p in ref[1:].split("/") if p]:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, list):
                node = node[int(part)]
            elif isinstance(node, dict) and part in node:
                node = node[part]
            else:
                raise Unsatisfiable(f"cannot resolve $ref {ref!r}")
        return node

    # -- generation -----------------------------------------------------------------------------------

    def instance(self, schema: Any, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise Unsatisfiable("schema recursion too deep")
        if schema is True or schema == {}:
            return None
        if schema is False or not isinstance(schema, dict):
            raise Unsatisfiable("the schema accepts nothing")
        if "$ref" in schema:
            target = self.resolve(schema["$ref"])
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            merged = _merge(target, rest) if rest else target
            return self.instance(merged, depth + 1)
        if "allOf" in schema:
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            for sub in schema["allOf"]:
                merged = _merge(merged, self._deref(sub))
            return self.checked(self.instance(merged, depth + 1), schema)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            for value in schema["enum"]:
                if self.valid(value, schema):
                    return value
            raise Unsatisfiable("no enum value satisfies the schema")
        for key in ("oneOf", "anyOf"):
            if key in schema:
                base = {k: v for k, v in schema.items() if k != key}
                for alt in schema[key]:
                    try:
                        value = self.instance(_merge(base, self._deref(alt)), depth + 1)
                    except Unsatisfiable:
                        continue
                    if self.valid(value, schema):
                        return value
                raise Unsatisfiable(f"no {key} branch yields a valid instance")
        types = schema.get("type", _implied_type(schema))
        for kind in [types] if isinstance(types, str) else list(types):
            try:
                value = self.typed(kind, schema, depth)
            except Unsatisfiable:
                continue
            if self.valid(value, schema):
                return value
        for fallback in ([schema["default"]] if "default" in schema else []) + list(schema.get("examples", [])):
            if self.valid(fallback, schema):
                return fallback
        raise Unsatisfiable(f"no instance of type {types!r} satisfies the schema")

    def checked(self, value: Any, schema: Any) -> Any:
        if not self.valid(value, schema):
            raise Unsatisfiable("the merged allOf instance does not satisfy every branch")
        return value

    def _deref(self, schema: Any) -> Any:
        while isinstance(schema, dict) and "$ref" in schema and len(schema) == 1:
            schema = self.resolve(schema["$ref"])
        return schema

    def typed(self, kind: str, schema: dict[str, Any], depth: int) -> Any:
        if kind == "null":
            return None
        if kind == "boolean":
            return False
        if kind in ("integer", "number"):
            return _number(schema, integer=kind == "integer")
        if kind == "string":
            return _string(schema)
        if kind == "array":
            return self.array(schema, depth)
        if kind == "object":
            return self.object(schema, depth)
        raise Unsatisfiable(f"unknown type {kind!r}")

    def object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        props: dict[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        out: dict[str, Any] = {}
        names = list(dict.fromkeys(schema.get("required", [])))
        wanted = int(schema.get("minProperties", 0))
        names += [n for n in props if n not in names][: max(0, wanted - len(names))]
        for name in names:
            out[name] = self.instance(self._property_schema(schema, name), depth + 1)
        filler = 0
        while len(out) < wanted:
            if extra is False:
                raise Unsatisfiable("minProperties needs properties the schema does not allow")
            name = f"p{filler}"
            filler += 1
            if name not in out:
                out[name] = self.instance(self._property_schema(schema, name), depth + 1)
        return out

    def _property_schema(self, schema: dict[str, Any], name: str) -> Any:
        props: dict[str, Any] = schema.get("properties", {})
        if name in props:
            return props[name]
        for pattern, sub in schema.get("patternProperties", {}).items():
            if re.search(pattern, name):
                return sub
        extra = schema.get("additionalProperties", True)
        if extra is False:
            raise Unsatisfiable(f"required property {name!r} is not allowed")
        return extra

    def array(self, schema: dict[str, Any], depth: int) -> list[Any]:
        prefix = schema.get("prefixItems")
        items = schema.get("items", True)
        if isinstance(items, list):  # draft 4-7 tuple form
            prefix, items = items, schema.get("additionalItems", True)
        prefix = prefix or []
        count = int(schema.get("minItems", 0))
        out: list[Any] = []
        if "contains" in schema:
            out += [self.instance(schema["contains"], depth + 1)] * int(schema.get("minContains", 1))
        while len(out) < max(count, 0):
            index = len(out)
            sub = prefix[index] if index < len(prefix) else items
            out.append(self.instance(sub, depth + 1) if not schema.get("uniqueItems")
                       else self._distinct(sub, out, depth))
        return out

    def _distinct(self, schema: Any, taken: list[Any], depth: int) -> Any:
        """An instance of ``schema`` not in ``taken`` (``uniqueItems``)."""
        first = self.instance(schema, depth + 1)
        if first not in taken:
            return first
        candidates: list[Any] = []
        if isinstance(schema, dict) and "enum" in schema:
            candidates = list(schema["enum"])
        elif isinstance(first, bool):
            candidates = [True, False]
        elif isinstance(first, int | float):
            sub = self._deref(schema)
            step = sub.get("multipleOf", 1) if isinstance(sub, dict) else 1
            candidates = [first + sign * i * step for i in range(1, len(taken) + 2) for sign in (1, -1)]
        elif isinstance(first, str):
            candidates = [first + "a" * i for i in range(1, len(taken) + 2)]
        elif isinstance(first, list | dict):
            candidates = []
        for value in candidates:
            if value not in taken and self.valid(value, schema):
                return value
        raise Unsatisfiable("uniqueItems: no distinct instance found")


def _implied_type(schema: dict[str, Any]) -> list[str]:
    if any(k in schema for k in ("properties", "required", "additionalProperties", "minProperties",
                                 "patternProperties")):
        return ["object"]
    if any(k in schema for k in ("items", "prefixItems", "minItems", "contains", "uniqueItems")):
        return ["array"]
    if any(k in schema for k in ("minLength", "maxLength", "pattern", "format")):
        return ["string"]
    if any(k in schema for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")):
        return ["number"]
    return list(_JSON_TYPES)


def _merge(a: Any, b: Any) -> Any:
    """Conjunction of two schemas, enough for generation (the result is always re-validated)."""
    if a is True or a == {}:
        return b
    if b is True or b == {}:
        return a
    if a is False or b is False or not isinstance(a, dict) or not isinstance(b, dict):
        return False
    out = dict(a)
    for key, value in b.items():
        if key not in out:
            out[key] = value
        elif key == "properties":
            out[key] = {**out[key], **{k: _merge(out[key].get(k, True), v) for k, v in value.items()}}
        elif key == "required":
            out[key] = list(dict.fromkeys([*out[key], *value]))
        elif key == "type":
            left = {out[key]} if isinstance(out[key], str) else set(out[key])
            right = {value} if isinstance(value, str) else set(value)
            both = left & right | ({"integer"} if "integer" in left | right and "number" in left | right else set())
            out[key] = [t for t in _JSON_TYPES if t in both]
        elif key in ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"):
            out[key] = max(out[key], value)
        elif key in ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"):
            out[key] = min(out[key], value)
        elif key == "allOf":
            out[key] = [*out[key], *value]
        else:
            out[key] = value
    return out


def _number(schema: dict[str, Any], *, integer: bool) -> int | float:
    lo, hi = schema.get("minimum"), schema.get("maximum")
    xlo, xhi = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if xlo is True:  # draft 4: a flag on minimum
        xlo, lo = lo, None
    if xhi is True:
        xhi, hi = hi, None
    if xlo is False:
        xlo = None
    if xhi is False:
        xhi = None
    step = schema.get("multipleOf")
    low = max([b for b in (lo, xlo) if b is not None], default=None)
    high = min([b for b in (hi, xhi) if b is not None], default=None)

    def ok(v: float) -> bool:
        return ((lo is None or v >= lo) and (xlo is None or v > xlo) and (hi is None or v <= hi)
                and (xhi is None or v < xhi))

    candidates: list[float] = [0]
    if low is not None:
        candidates.append(math.floor(low) + 1 if integer and low == xlo else low)
        if not integer and low == xlo:
            candidates.append(low + (((high - low) / 2) if high is not None else 1))
        candidates.append(math.ceil(low))
    if high is not None:
        candidates += [high, math.floor(high), math.ceil(high) - 1]
        if not integer and high == xhi:
            candidates.append(high - 1)
    if step:
        base = low if low is not None else high if high is not None else 0
        k = math.ceil(base / step)
        candidates = [k * step, (k + 1) * step, (k - 1) * step, *candidates]
    for value in candidates:
        if integer:
            if float(value) != math.floor(value):
                continue
            value = int(value)
        if ok(value) and (not step or _multiple(value, step)):
            return value
    raise Unsatisfiable("no number satisfies the bounds")


def _multiple(value: float, step: float) -> bool:
    quotient = value / step
    return abs(quotient - round(quotient)) < 1e-9


def _string(schema: dict[str, Any]) -> str:
    fmt = schema.get("format")
    min_len = int(schema.get("minLength", 0))
    max_len = schema.get("maxLength")
    value = _FORMATS.get(fmt, "") if isinstance(fmt, str) else ""
    if len(value) < min_len:
        pad = _PADDED.get(fmt) if isinstance(fmt, str) else None
        value = pad(min_len) if pad is not None else value + "a" * (min_len - len(value))
    pattern = schema.get("pattern")
    if pattern is not None and not re.search(pattern, value):
        for candidate in ("a" * max(min_len, 1), "0" * max(min_len, 1), "A" * max(min_len, 1), ""):
            if re.search(pattern, candidate):
                value = candidate
                break
        else:
            raise Unsatisfiable(f"no simple string matches pattern {pattern!r}")
    if max_len is not None and len(value) > int(max_len):
        raise Unsatisfiable("no string fits the length bounds")
    return value
