"""The one way an action refuses its input: a translated ``ServiceValidationError``."""

from __future__ import annotations

from homeassistant.exceptions import ServiceValidationError

from .const import DOMAIN


def service_error(key: str, **placeholders: str) -> ServiceValidationError:
    """The error ``exceptions.<key>`` of translations/*.json, filled with ``placeholders``."""
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )
