"""Load and validate the workflow configuration against ``schemas/config.schema.yaml``.

Defaults live in the schema, not in code: validation fills them in. Errors name the key
(``flow.tvl1.tau``) and the reason, before any job runs.
"""
from __future__ import annotations

import copy
import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "config.schema.yaml"


@functools.lru_cache(maxsize=1)
def _default_filling_validator():
    """Draft 2020-12 that fills each absent property's default while validating (jsonschema is
    imported here, not at module level: every job imports this module for ``config_hash``)."""
    import jsonschema

    validator_class = jsonschema.Draft202012Validator
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for prop, subschema in properties.items():
                if "default" in subschema and prop not in instance:
                    instance[prop] = copy.deepcopy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def load_schema(path: str | Path = SCHEMA_PATH) -> dict:
    """The root schema with every ``schemas/sections/<key>.yaml`` merged in as property <key>."""
    path = Path(path)
    with open(path) as fh:
        schema = yaml.safe_load(fh)
    sections = path.parent / "sections"
    if sections.is_dir():
        for part in sorted(sections.glob("*.yaml")):
            with open(part) as fh:
                schema["properties"][part.stem] = yaml.safe_load(fh)
    return schema


def _key_path(error) -> str:  # a jsonschema.ValidationError
    parts = [str(p) for p in error.absolute_path]
    if error.validator == "additionalProperties":
        # jsonschema reports the parent; name the offending key itself.
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        parts = parts + [",".join(extra)]
        return ".".join(parts)
    if error.validator == "required":
        return ".".join(parts + [error.message.split("'")[1]])
    return ".".join(parts) or "<root>"


def _describe(subschema: dict) -> str:
    """A oneOf branch in words: 'auto', 'an integer >= 1', ..."""
    if "const" in subschema:
        return repr(subschema["const"])
    kind = subschema.get("type", "value")
    text = f"an {kind}" if str(kind)[:1] in "aeiou" else f"a {kind}"
    if "minimum" in subschema:
        text += f" >= {subschema['minimum']}"
    return text


def validate_config(config: dict, schema: dict | None = None) -> dict:
    """Validate ``config`` in place, filling defaults; raise ConfigError naming the key."""
    schema = schema or load_schema()
    # Fill defaults of nested objects that are absent: validate twice so that defaults of
    # objects created by the first pass are filled too.
    for _ in range(2):
        errors = sorted(_default_filling_validator()(schema).iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        lines = []
        for err in errors[:10]:
            key = _key_path(err)
            if err.validator == "additionalProperties":
                lines.append(f"config key '{key}': unknown key")
            elif err.validator == "oneOf":
                options = " or ".join(_describe(sub) for sub in err.validator_value)
                lines.append(f"config key '{key}': {err.instance!r} is not {options}")
            else:
                lines.append(f"config key '{key}': {err.message}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))
    return config


def load_config(path: str | Path, overrides: dict | None = None) -> dict:
    with open(path) as fh:
        config = yaml.safe_load(fh) or {}
    if overrides:
        config = deep_update(config, overrides)
    return validate_config(config)


def deep_update(base: dict, update: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_update(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def config_hash(config: Any) -> str:
    """Stable short hash of a config (or a section of it), for tags and cache keys."""
    blob = json.dumps(config, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]
