"""The neural models a declaration says the appliance runs (PROTOCOL.md 7.6).

``"models": [{"id": "wet_cycle", "version": "1"}]``: each entry names a model
file's ``id`` (its ``liuzhou.spec`` name, ``models/<id>/`` in this repository)
and the ``version`` in that file's spec. The hub ignores ids it does not know;
the conformance kit checks that the appliance behaves as each known model
says. Parsing raises ``ValueError`` with the message; ``declaration.py`` turns
it into its ``DeclarationError``.
"""

from __future__ import annotations

from dataclasses import dataclass
import re
from typing import Any, Final

MAX_MODELS: Final = 16
# A model id: a lowercase identifier of 1-32 characters ("wet_cycle", "fridge_fault").
MODEL_ID: Final = re.compile(r"[a-z][a-z0-9_]{0,31}")
# A version: 1-32 characters of letters, digits and . + - ("1", "2.1", "3-int8").
MODEL_VERSION: Final = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+-]{0,31}")


@dataclass(frozen=True, slots=True)
class DeclaredModel:
    """One model the appliance runs: ``id`` and the ``version`` of the file it runs."""

    id: str
    version: str

    def to_dict(self) -> dict[str, Any]:
        """The entry as it appears in a declaration."""
        return {"id": self.id, "version": self.version}


def parse_models(raw: object) -> tuple[DeclaredModel, ...]:
    """Parse a declaration's ``models``; raise ``ValueError`` saying what is wrong.

    A list of at most ``MAX_MODELS`` objects with exactly the keys ``id`` and
    ``version`` (strings matching ``MODEL_ID`` and ``MODEL_VERSION``), no id twice.
    """
    if not isinstance(raw, list) or len(raw) > MAX_MODELS:
        raise ValueError(f"models must be a list of at most {MAX_MODELS} {{id, version}} objects")
    models: list[DeclaredModel] = []
    for n, entry in enumerate(raw):
        where = f"models[{n}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where} must be an object with id and version")
        unknown = set(entry) - {"id", "version"}
        if unknown:
            raise ValueError(f"{where} has unknown keys: {', '.join(sorted(map(str, unknown)))}")
        model_id, version = entry.get("id"), entry.get("version")
        if not isinstance(model_id, str) or not MODEL_ID.fullmatch(model_id):
            raise ValueError(
                f"{where}.id must be a lowercase identifier of 1-32 characters "
                f"(letters, digits, _), got {model_id!r}"
            )
        if not isinstance(version, str) or not MODEL_VERSION.fullmatch(version):
            raise ValueError(
                f"{where}.version must be a string of 1-32 letters, digits, '.', '+' or '-' "
                f"(the model file's version), got {version!r}"
            )
        models.append(DeclaredModel(model_id, version))
    ids = [model.id for model in models]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"models repeat ids: {', '.join(repeated)}")
    return tuple(models)
