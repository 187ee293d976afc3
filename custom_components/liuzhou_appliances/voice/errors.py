"""What an intent could not do, said to the user instead of raised to Assist."""

from __future__ import annotations

from homeassistant.helpers import intent


class VoiceError(Exception):
    """An answer that says why nothing (or not everything) was done.

    ``key`` names a template of the answering domain's responses table (or the
    common one), ``values`` fill it (already spoken: numbers as words, names).
    ``code`` is Assist's error code, so callers (and LLM agents) can tell a
    missing target from a refusal.
    """

    def __init__(
        self,
        key: str,
        *,
        code: intent.IntentResponseErrorCode = intent.IntentResponseErrorCode.FAILED_TO_HANDLE,
        **values: object,
    ) -> None:
        """Build the error of answer ``key`` with placeholders ``values``."""
        super().__init__(key)
        self.key = key
        self.code = code
        self.values = values


def no_target(key: str, **values: object) -> VoiceError:
    """No appliance, or more than one, fits what was said."""
    return VoiceError(key, code=intent.IntentResponseErrorCode.NO_VALID_TARGETS, **values)
