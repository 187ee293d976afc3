"""Valid protocol messages of every kind, and hypothesis mutations of them into hostile JSON.

A message is built as a tree of dicts/lists/scalars, mutated (a field's value
replaced by a hostile one, a field removed, a key repeated, the whole thing
nested), then written out by ``render``, which can also emit what
``json.dumps`` refuses to: 401-digit integers, ``1e400``, escaped lone
surrogates, repeated keys and deep nesting.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
from typing import Any

from hypothesis import strategies as st

from .backend import AC_DECLARATION, AC_STATE, WASHER_DECLARATION


@dataclass(frozen=True)
class Raw:
    """JSON text inserted as is."""

    text: str


class Pairs(list[tuple[str, Any]]):
    """An object written from its pairs, so a key may repeat."""


HOSTILE_VALUES: list[Any] = [
    Raw("9" * 401),
    Raw("-" + "9" * 401),
    Raw("1e400"),
    Raw("-1e400"),
    Raw("1e-400"),
    Raw('"\\ud800"'),
    Raw('"a\\udfffb"'),
    Raw('"\\ud83d\\ude00"'),  # a valid pair: one character, accepted
    Raw("[" * 40 + "]" * 40),
    Raw('{"a":' * 30 + "1" + "}" * 30),
    {},
    [],
    [[]],
    {"": {}},
    None,
    True,
    False,
    0,
    -1,
    2**53,
    2**64,
    -(2**63),
    0.1,
    -0.0,
    1.5e308,
    "",
    "x" * 300,
    "\u0000\u001f",
    "é中",
]


def render(value: Any) -> str:
    """JSON text of ``value`` (``Raw`` and ``Pairs`` included)."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Pairs):
        return "{" + ",".join(f"{json.dumps(k)}:{render(v)}" for k, v in value) + "}"
    if isinstance(value, dict):
        return render(Pairs(value.items()))
    if isinstance(value, list):
        return "[" + ",".join(render(v) for v in value) + "]"
    return json.dumps(value)


_ids = st.integers(0, 2**53 - 1)
_texts = st.text(max_size=12)
_keys = st.sampled_from([*AC_STATE, "turbo", "programme", "delay_s"])
# Field strategies of differing value types: without this annotation mypy cannot infer
# one value type for both of fixed_dictionaries' arguments.
_Fields = dict[str, st.SearchStrategy[Any]]


def _values() -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries({}, optional={key: st.just(v) for key, v in AC_STATE.items()})


def messages() -> st.SearchStrategy[dict[str, Any]]:
    """A valid message of any kind, outer (HELLO, ERROR) or inner."""
    request = st.sampled_from(["describe", "subscribe", "ping"]).flatmap(
        lambda kind: st.fixed_dictionaries({"id": _ids, "type": st.just(kind)})
    )
    return st.one_of(
        st.fixed_dictionaries(
            {
                "hub_id": st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True),
                "min_version": st.just(1),
                "max_version": st.integers(1, 3),
            }
        ),
        st.fixed_dictionaries(
            {
                "appliance_id": st.from_regex(r"[a-z0-9-]{1,64}", fullmatch=True),
                "type": st.sampled_from(
                    ["refrigerator", "room_air_conditioner", "laundry_washer", "dishwasher"]
                ),
                "model": st.just("LZ-AC35"),
                "firmware": st.just("1.0"),
                "version": st.just(1),
                "paired": st.booleans(),
            }
        ),
        st.fixed_dictionaries(
            {"code": st.integers(1, 20), "message": _texts},
            optional={"retry_after": st.integers(0, 900), "key": _keys},
        ),
        request,
        st.fixed_dictionaries(
            _Fields({"id": _ids, "type": st.just("read")}),
            optional={"keys": st.lists(_keys, max_size=3)},
        ),
        st.fixed_dictionaries({"id": _ids, "type": st.just("write"), "values": _values()}),
        st.fixed_dictionaries(
            _Fields(
                {
                    "id": _ids,
                    "type": st.just("command"),
                    "name": st.sampled_from(["start", "stop", "pause"]),
                }
            ),
            optional={"args": st.fixed_dictionaries({}, optional={"delay_s": st.just(60)})},
        ),
        st.fixed_dictionaries(
            {
                "id": _ids,
                "type": st.just("result"),
                "result": st.one_of(
                    st.sampled_from([AC_DECLARATION, WASHER_DECLARATION]).map(
                        lambda d: {"declaration": d}
                    ),
                    st.just({"seq": 3}),
                    _values().map(lambda v: {"values": v}),
                ),
            }
        ),
        st.fixed_dictionaries(
            _Fields({"id": _ids | st.none(), "type": st.just("error"), "code": st.integers(1, 20)}),
            optional={"message": _texts, "key": _keys, "retry_after": st.integers(1, 60)},
        ),
        st.fixed_dictionaries(
            {"type": st.just("changed"), "seq": st.integers(0, 10**6), "values": _values()}
        ),
        st.fixed_dictionaries(
            {
                "id": _ids,
                "type": st.just("voice_reply"),
                "utterance": st.integers(0, 2**53 - 1),
                "text": _texts,
                "continue": st.booleans(),
                "conversation": st.none() | _texts,
            }
        ),
        st.fixed_dictionaries(
            {
                "id": _ids,
                "type": st.just("announce"),
                "text": _texts,
                "language": st.sampled_from(["zh-CN", "en", "de"]),
            }
        ),
        st.fixed_dictionaries(
            {
                "type": st.just("utterance"),
                "utterance": st.integers(0, 2**53 - 1),
                "text": _texts,
                "language": st.sampled_from(["zh-CN", "en", "de"]),
                "conversation": st.none() | _texts,
            }
        ),
    )


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out += _paths(child, (*prefix, index))
    return out


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {k: (_replace(v, rest, new) if k == head else v) for k, v in value.items()}
    return [_replace(v, rest, new) if i == head else v for i, v in enumerate(value)]


def _delete(value: Any, path: tuple[Any, ...]) -> Any:
    head, rest = path[0], path[1:]
    if rest:
        if isinstance(value, dict):
            return {k: (_delete(v, rest) if k == head else v) for k, v in value.items()}
        return [_delete(v, rest) if i == head else v for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k != head}
    return [v for i, v in enumerate(value) if i != head]


@st.composite
def mutated(draw: st.DrawFn, message: dict[str, Any]) -> str:
    """``message`` as JSON text after 0-3 hostile mutations."""
    value: Any = message
    for _ in range(draw(st.integers(0, 3))):
        paths = _paths(value)
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "replace", "delete", "repeat", "wrap"]))
        if action == "replace" or (action == "delete" and not path):
            value = _replace(value, path, draw(st.sampled_from(HOSTILE_VALUES)))
        elif action == "delete":
            value = _delete(value, path)
        elif action == "repeat" and isinstance(value, dict) and value:
            key = draw(st.sampled_from(list(value)))
            other = draw(st.sampled_from(HOSTILE_VALUES))
            return render(Pairs([*value.items(), (key, other)]))
        else:
            node = _get(value, path)
            value = _replace(value, path, draw(st.sampled_from([[node], {"x": [node]}])))
    return render(value)


def hostile_payloads() -> st.SearchStrategy[bytes]:
    """Mutated messages of every kind, as the UTF-8 bytes a peer would send."""
    return messages().flatmap(mutated).map(lambda text: text.encode("utf-8", "surrogatepass"))
