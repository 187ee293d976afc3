"""A model's declaration: its capabilities, bounds, options and programmes.

The appliance serves its ``Declaration`` in ``describe``; ``Declaration.from_dict``
parses and checks one against the type's vocabulary in model.py and raises
``DeclarationError`` saying what is wrong. ``VoicePanel`` is the optional
voice panel (its languages); ``DeclaredModel`` a neural model it runs
(``declared_models.py``). ``Capability``, ``Declaration``
and ``Programme`` check values, writes and commands against what the model
declared, raising the error family's classes (OUT_OF_RANGE, INVALID_TYPE ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
import re
from typing import Any, Final

from .declared_models import DeclaredModel, parse_models
from .errors import (
    InvalidTypeError,
    MalformedError,
    OutOfRangeError,
    ReadOnlyError,
    UnknownCapabilityError,
    UnsupportedCommandError,
)
from .model import (
    APPLIANCE_TYPES,
    MAX_SAFE_INTEGER,
    ApplianceType,
    ApplianceTypeSpec,
    AttributeSpec,
    Value,
    ValueKind,
    is_finite_number,
)

DECLARATION_SCHEMA: Final = 1


@dataclass(frozen=True, slots=True)
class Capability:
    """An attribute as one model has it: the type's spec narrowed by the declaration."""

    spec: AttributeSpec
    minimum: float | None
    maximum: float | None
    step: float | None
    options: tuple[str, ...]

    @property
    def key(self) -> str:
        """The attribute key."""
        return self.spec.key

    @property
    def writable(self) -> bool:
        """Whether the hub may write it."""
        return self.spec.writable

    def validate(self, value: object) -> Value:
        """Return ``value`` normalised for this capability or raise LinkError.

        Type mismatches raise INVALID_TYPE, values outside the declared bounds
        or options raise OUT_OF_RANGE; nothing is coerced silently.
        """
        kind = self.spec.kind
        key = self.spec.key
        if kind is ValueKind.BOOL:
            if not isinstance(value, bool):
                raise InvalidTypeError(f"{key} expects true or false", key=key)
            return value
        if kind is ValueKind.ENUM:
            if not isinstance(value, str):
                raise InvalidTypeError(f"{key} expects a string", key=key)
            if value not in self.options:
                raise OutOfRangeError(
                    f"{key} must be one of {', '.join(self.options)}; got {value!r}",
                    key=key,
                )
            return value
        if kind is ValueKind.FAULTS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InvalidTypeError(f"{key} expects a list of codes", key=key)
            return list(value)
        # NUMBER and DURATION
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidTypeError(f"{key} expects a number", key=key)
        if not is_finite_number(value):
            raise OutOfRangeError(f"{key} must be finite and within ±2^53", key=key)
        if kind is ValueKind.DURATION and value != int(value):
            raise InvalidTypeError(f"{key} expects whole seconds", key=key)
        if self.minimum is not None and value < self.minimum:
            raise OutOfRangeError(
                f"{key} must be at least {self.minimum}; got {value}",
                key=key,
            )
        if self.maximum is not None and value > self.maximum:
            raise OutOfRangeError(
                f"{key} must be at most {self.maximum}; got {value}",
                key=key,
            )
        if self.step:
            base = self.minimum or 0.0
            steps = (value - base) / self.step
            if abs(steps - round(steps)) > 1e-6:
                raise OutOfRangeError(
                    f"{key} must be a multiple of {self.step} from {base}; got {value}",
                    key=key,
                )
        return int(value) if kind is ValueKind.DURATION else value

    def validate_reported(self, value: object) -> Value:
        """Check a value the appliance reports (pushed or read); raise only LinkError.

        ``validate``, and within what the MCU link can carry (SERIAL.md): numbers
        travel as ``value * 10**decimals`` in an int32, durations as seconds in a
        uint32, so a value beyond that (or too large for a float) cannot come
        from a working appliance.
        """
        try:
            normalised = self.validate(value)
        except ArithmeticError:  # an integer too large for a float
            raise OutOfRangeError(f"{self.key} is too large", key=self.key) from None
        if self.spec.kind in (ValueKind.NUMBER, ValueKind.DURATION):
            assert isinstance(normalised, int | float)
            if self.spec.kind is ValueKind.DURATION:
                fits = 0 <= normalised < 2**32  # whole seconds in a u32
            else:
                fits = -(2**31) <= normalised * 10**self.spec.decimals < 2**31  # i32
            if not fits:
                raise OutOfRangeError(
                    f"{self.key} is beyond what the appliance can report; got {normalised}",
                    key=self.key,
                )
        return normalised

    def to_dict(self) -> dict[str, Any]:
        """The capability as it appears in a declaration."""
        out: dict[str, Any] = {}
        if self.minimum is not None:
            out["min"] = self.minimum
        if self.maximum is not None:
            out["max"] = self.maximum
        if self.step is not None:
            out["step"] = self.step
        if self.options:
            out["options"] = list(self.options)
        return out


@dataclass(frozen=True, slots=True)
class Programme:
    """A washer or dishwasher programme: nominal duration, energy and power profile.

    ``profile`` is a list of (seconds, watts) segments; the planner on the hub
    uses it to place runs in cheap hours.
    """

    id: str
    duration_s: int
    energy_kwh: float
    profile: tuple[tuple[int, float], ...]

    def to_dict(self) -> dict[str, Any]:
        """The programme as it appears in a declaration."""
        return {
            "id": self.id,
            "duration_s": self.duration_s,
            "energy_kwh": self.energy_kwh,
            "profile": [[seconds, watts] for seconds, watts in self.profile],
        }


class DeclarationError(ValueError):
    """A capability declaration that does not fit the data model."""


# A well-formed BCP 47 tag, as far as a panel needs: a 2-3 letter language, then
# subtags of 1-8 letters or digits ("zh-CN", "en", "zh-Hans-CN"); 35 characters at most.
_LANGUAGE_TAG: Final = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
MAX_PANEL_LANGUAGES: Final = 16


@dataclass(frozen=True, slots=True)
class VoicePanel:
    """The appliance's voice panel (PROTOCOL.md 7.5): the languages it recognises and speaks.

    ``languages`` are BCP 47 tags, at least one, none repeated, the panel's
    first (default) language first.
    """

    languages: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The panel as it appears in a declaration."""
        return {"languages": list(self.languages)}

    @classmethod
    def from_dict(cls, raw: object) -> VoicePanel:
        """Parse ``voice_panel``; DeclarationError saying what is wrong."""
        _require(isinstance(raw, dict), "voice_panel must be an object")
        assert isinstance(raw, dict)
        unknown = set(raw) - {"languages"}
        _require(not unknown, f"unknown voice_panel keys: {', '.join(sorted(unknown))}")
        languages = raw.get("languages")
        _require(
            isinstance(languages, list) and 0 < len(languages) <= MAX_PANEL_LANGUAGES,
            f"voice_panel.languages must be a list of 1-{MAX_PANEL_LANGUAGES} language tags",
        )
        assert isinstance(languages, list)
        for tag in languages:
            _require(
                isinstance(tag, str) and len(tag) <= 35 and bool(_LANGUAGE_TAG.fullmatch(tag)),
                f"voice_panel.languages: {tag!r} is not a BCP 47 language tag (e.g. zh-CN)",
            )
        folded = [tag.casefold() for tag in languages]
        _require(len(set(folded)) == len(folded), "voice_panel.languages repeat")
        return cls(tuple(languages))


class BleConnection(StrEnum):
    """How a hub holds this model's BLE connection (PROTOCOL.md 11.6).

    ``persistent``: connected all the time, so alarms are pushed at once (a
    fridge's door or temperature). ``on_demand``: the hub may disconnect after
    a quiet while and come back when the advertisement's change counter
    moves, for a request, or every few minutes; a Bluetooth proxy's few
    connection slots then serve more appliances.
    """

    PERSISTENT = "persistent"
    ON_DEMAND = "on_demand"


@dataclass(frozen=True, slots=True)
class Declaration:
    """What one appliance model has: its capabilities, bounds and programmes."""

    type: ApplianceType
    manufacturer: str
    model: str
    capabilities: Mapping[str, Capability]
    programmes: tuple[Programme, ...] = ()
    max_delay_s: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)
    ble_connection: BleConnection = BleConnection.PERSISTENT
    voice_panel: VoicePanel | None = None
    models: tuple[DeclaredModel, ...] = ()

    @property
    def type_spec(self) -> ApplianceTypeSpec:
        """The vocabulary of this model's type."""
        return APPLIANCE_TYPES[self.type]

    def capability(self, key: str) -> Capability:
        """Return the capability or raise UNKNOWN_CAPABILITY."""
        try:
            return self.capabilities[key]
        except KeyError:
            raise UnknownCapabilityError(f"this {self.model} has no {key!r}", key=key) from None

    def programme(self, programme_id: str) -> Programme:
        """Return a declared programme or raise OUT_OF_RANGE."""
        for programme in self.programmes:
            if programme.id == programme_id:
                return programme
        raise OutOfRangeError(f"unknown programme {programme_id!r}")

    def validate_write(self, key: str, value: object) -> Value:
        """Validate one write from the hub: known, writable, in range."""
        capability = self.capability(key)
        if not capability.writable:
            raise ReadOnlyError(f"{key} is read-only", key=key)
        return capability.validate(value)

    def validate_reported(self, key: str, value: object) -> Value:
        """Validate one value the appliance reports: declared, right type, in range."""
        return self.capability(key).validate_reported(value)

    def validate_command(self, name: str, args: Mapping[str, object]) -> dict[str, int]:
        """Validate a command and its arguments; return the normalised arguments."""
        spec = self.type_spec.command(name)
        unknown = set(args) - set(spec.args)
        if unknown:
            raise MalformedError(f"{name} takes no argument {', '.join(sorted(unknown))}")
        out: dict[str, int] = {}
        for arg, value in args.items():
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidTypeError(f"{arg} expects whole seconds")
            if value < 0 or value > max(self.max_delay_s, 0) + _longest(self.programmes):
                raise OutOfRangeError(f"{arg}={value} is out of range")
            out[arg] = value
        if len(out) > 1:
            raise MalformedError("give delay_s or finish_in_s, not both")
        if out and self.max_delay_s <= 0:
            raise UnsupportedCommandError(f"{self.model} has no delayed start")
        return out

    def to_dict(self) -> dict[str, Any]:
        """The declaration as JSON-ready data (the wire and file format)."""
        out: dict[str, Any] = {
            "schema": DECLARATION_SCHEMA,
            "type": str(self.type),
            "manufacturer": self.manufacturer,
            "model": self.model,
            "capabilities": {key: cap.to_dict() for key, cap in self.capabilities.items()},
        }
        if self.programmes:
            out["programmes"] = [programme.to_dict() for programme in self.programmes]
        if self.max_delay_s:
            out["max_delay_s"] = self.max_delay_s
        if self.ble_connection is not BleConnection.PERSISTENT:
            out["ble_connection"] = str(self.ble_connection)
        if self.voice_panel is not None:
            out["voice_panel"] = self.voice_panel.to_dict()
        if self.models:
            out["models"] = [model.to_dict() for model in self.models]
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: object) -> Declaration:
        """Parse and check a declaration; raise DeclarationError saying what is wrong."""
        return _parse_declaration(data)


def _longest(programmes: tuple[Programme, ...]) -> int:
    return max((p.duration_s for p in programmes), default=0)


_KNOWN_TOP_LEVEL: Final = frozenset(
    {
        "schema",
        "type",
        "manufacturer",
        "model",
        "capabilities",
        "programmes",
        "max_delay_s",
        "ble_connection",
        "voice_panel",
        "models",
    }
)
# Keys a maker may add for documentation; carried through untouched.
_FREE_TOP_LEVEL: Final = frozenset({"name", "rated_power_w", "notes"})


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise DeclarationError(message)


def _number(value: object, where: str) -> float:
    _require(
        isinstance(value, int | float) and not isinstance(value, bool) and is_finite_number(value),
        f"{where} must be a finite number",
    )
    assert isinstance(value, int | float)
    return value


def _parse_capability(spec: AttributeSpec, raw: object) -> Capability:
    where = f"capabilities.{spec.key}"
    _require(isinstance(raw, dict), f"{where} must be an object")
    assert isinstance(raw, dict)
    unknown = set(raw) - {"min", "max", "step", "options"}
    _require(not unknown, f"{where} has unknown keys: {', '.join(sorted(unknown))}")
    minimum, maximum, step, options = spec.minimum, spec.maximum, spec.step, spec.options
    if spec.kind in (ValueKind.NUMBER, ValueKind.DURATION):
        if "min" in raw:
            minimum = _number(raw["min"], f"{where}.min")
            _require(
                spec.minimum is None or minimum >= spec.minimum,
                f"{where}.min {minimum} is below the data model's {spec.minimum}",
            )
        if "max" in raw:
            maximum = _number(raw["max"], f"{where}.max")
            _require(
                spec.maximum is None or maximum <= spec.maximum,
                f"{where}.max {maximum} is above the data model's {spec.maximum}",
            )
        if "step" in raw:
            step = _number(raw["step"], f"{where}.step")
            _require(step > 0, f"{where}.step must be positive")
        _require(
            minimum is None or maximum is None or minimum <= maximum,
            f"{where}: min is above max",
        )
    else:
        _require(not {"min", "max", "step"} & set(raw), f"{where} takes no min/max/step")
    if spec.kind is ValueKind.ENUM:
        if "options" in raw:
            raw_options = raw["options"]
            _require(
                isinstance(raw_options, list)
                and bool(raw_options)
                and all(isinstance(o, str) for o in raw_options),
                f"{where}.options must be a non-empty list of strings",
            )
            assert isinstance(raw_options, list)
            not_in_model = [o for o in raw_options if o not in spec.options]
            _require(
                not not_in_model,
                f"{where}.options {not_in_model} are not in the data model "
                f"({', '.join(spec.options)})",
            )
            _require(len(set(raw_options)) == len(raw_options), f"{where}.options repeat")
            options = tuple(raw_options)
    else:
        _require("options" not in raw, f"{where} takes no options")
    return Capability(spec, minimum, maximum, step, options)


def _parse_programme(raw: object, index: int, allowed: tuple[str, ...]) -> Programme:
    where = f"programmes[{index}]"
    _require(isinstance(raw, dict), f"{where} must be an object")
    assert isinstance(raw, dict)
    programme_id = raw.get("id")
    _require(
        isinstance(programme_id, str) and programme_id in allowed,
        f"{where}.id must be one of {', '.join(allowed)}",
    )
    assert isinstance(programme_id, str)
    duration = raw.get("duration_s")
    _require(
        isinstance(duration, int)
        and not isinstance(duration, bool)
        and 0 < duration <= MAX_SAFE_INTEGER,
        f"{where}.duration_s must be a positive whole number",
    )
    assert isinstance(duration, int)
    energy = _number(raw.get("energy_kwh"), f"{where}.energy_kwh")
    _require(energy > 0, f"{where}.energy_kwh must be positive")
    raw_profile = raw.get("profile")
    _require(isinstance(raw_profile, list) and bool(raw_profile), f"{where}.profile must be a list")
    assert isinstance(raw_profile, list)
    profile: list[tuple[int, float]] = []
    for n, segment in enumerate(raw_profile):
        _require(
            isinstance(segment, list)
            and len(segment) == 2
            and isinstance(segment[0], int)
            and not isinstance(segment[0], bool)
            and 0 < segment[0] <= MAX_SAFE_INTEGER,
            f"{where}.profile[{n}] must be [seconds, watts]",
        )
        watts = _number(segment[1], f"{where}.profile[{n}] watts")
        _require(0 <= watts <= 10000, f"{where}.profile[{n}] watts out of 0-10000")
        profile.append((segment[0], watts))
    _require(
        sum(seconds for seconds, _ in profile) == duration,
        f"{where}.profile lasts {sum(s for s, _ in profile)} s, not duration_s {duration}",
    )
    profile_kwh = sum(seconds * watts for seconds, watts in profile) / 3.6e6
    _require(
        abs(profile_kwh - energy) <= 0.1 * energy + 0.01,
        f"{where}.profile holds {profile_kwh:.3f} kWh, not energy_kwh {energy}",
    )
    return Programme(programme_id, duration, energy, tuple(profile))


def _parse_declaration(data: object) -> Declaration:
    _require(isinstance(data, dict), "a declaration must be a JSON object")
    assert isinstance(data, dict)
    unknown = set(data) - _KNOWN_TOP_LEVEL - _FREE_TOP_LEVEL
    _require(not unknown, f"unknown declaration keys: {', '.join(sorted(unknown))}")
    _require(
        data.get("schema") == DECLARATION_SCHEMA,
        f"schema must be {DECLARATION_SCHEMA}, got {data.get('schema')!r}",
    )
    try:
        appliance_type = ApplianceType(str(data.get("type")))
    except ValueError:
        raise DeclarationError(
            f"type must be one of {', '.join(ApplianceType)}, got {data.get('type')!r}"
        ) from None
    type_spec = APPLIANCE_TYPES[appliance_type]
    for text_key in ("manufacturer", "model"):
        value = data.get(text_key)
        _require(
            isinstance(value, str) and 0 < len(value) <= 64,
            f"{text_key} must be a string of 1-64 characters",
        )
    raw_caps = data.get("capabilities", {})
    _require(isinstance(raw_caps, dict), "capabilities must be an object")
    known_keys = {attr.key for attr in type_spec.attributes}
    unknown_caps = set(raw_caps) - known_keys
    _require(
        not unknown_caps,
        f"{appliance_type} has no capabilities {', '.join(sorted(unknown_caps))}",
    )
    capabilities: dict[str, Capability] = {}
    for attr in type_spec.attributes:
        if attr.key in raw_caps:
            capabilities[attr.key] = _parse_capability(attr, raw_caps[attr.key])
        elif attr.required:
            capabilities[attr.key] = Capability(
                attr, attr.minimum, attr.maximum, attr.step, attr.options
            )
    programmes: tuple[Programme, ...] = ()
    max_delay = data.get("max_delay_s", 0)
    _require(
        isinstance(max_delay, int)
        and not isinstance(max_delay, bool)
        and 0 <= max_delay <= 86400 * 2,
        "max_delay_s must be a whole number of seconds from 0 to 172800",
    )
    if type_spec.has_programmes:
        raw_programmes = data.get("programmes")
        _require(
            isinstance(raw_programmes, list) and bool(raw_programmes),
            f"a {appliance_type} declares at least one programme",
        )
        assert isinstance(raw_programmes, list)
        programme_options = capabilities["programme"].options
        programmes = tuple(
            _parse_programme(raw, n, programme_options) for n, raw in enumerate(raw_programmes)
        )
        ids = [p.id for p in programmes]
        _require(len(set(ids)) == len(ids), "programme ids repeat")
        # The programme select offers exactly the declared programmes.
        capabilities["programme"] = Capability(
            capabilities["programme"].spec, None, None, None, tuple(ids)
        )
        if max_delay:
            capabilities.setdefault(
                "delay_remaining",
                Capability(type_spec.attribute("delay_remaining"), 0, max_delay, None, ()),
            )
        else:
            _require(
                "delay_remaining" not in capabilities,
                "delay_remaining needs max_delay_s (delayed start)",
            )
    else:
        _require("programmes" not in data, f"a {appliance_type} has no programmes")
        _require(max_delay == 0, f"a {appliance_type} has no delayed start")
    raw_ble = data.get("ble_connection", BleConnection.PERSISTENT)
    _require(
        isinstance(raw_ble, str) and raw_ble in set(BleConnection),
        f"ble_connection must be one of {', '.join(BleConnection)}",
    )
    raw_panel = data.get("voice_panel")
    voice_panel = None if raw_panel is None else VoicePanel.from_dict(raw_panel)
    try:
        models = parse_models(data.get("models", []))
    except ValueError as err:
        raise DeclarationError(str(err)) from None
    extra = {key: data[key] for key in _FREE_TOP_LEVEL if key in data}
    return Declaration(
        type=appliance_type,
        manufacturer=data["manufacturer"],
        model=data["model"],
        capabilities=capabilities,
        programmes=programmes,
        max_delay_s=max_delay,
        extra=extra,
        ble_connection=BleConnection(raw_ble),
        voice_panel=voice_panel,
        models=models,
    )
