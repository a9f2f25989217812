"""The UI's words for seeded chaos (delivery/chaos.py): what it did to a delivery, and a spec
in the KEY=VALUE form the forms take (the same form as the CLI's --chaos)."""

from __future__ import annotations

from typing import Any, Mapping

from mock_norce.delivery import chaos
from mock_norce.errors import ChaosError
from mock_norce.web.ui_shared import bp


@bp.app_template_filter("chaos_notes")
def chaos_notes(recorded: Mapping | None) -> list[str]:
    """What chaos did to a delivery, one sentence each."""
    return chaos.describe(recorded)


@bp.app_template_filter("chaos_pairs")
def chaos_pairs(spec: Mapping | None) -> str:
    """A spec as a form shows it: its knobs that are on (and its seed), ``duplicate=0.2,seed=3``."""
    return chaos.as_pairs(spec)


def form_chaos(text: str | None) -> dict[str, Any] | None:
    """A form's chaos field (KEY=VALUE,...) as the API's chaos object, checked; None when blank.
    A mistake is a ChaosError whose field is the form's: ``chaos``."""
    if not text or not text.strip():
        return None
    try:
        data = chaos.parse_pairs(text, "chaos")
        spec = chaos.parse(data)
    except ChaosError as exc:
        raise ChaosError(exc.message, field="chaos") from None
    return spec.to_dict() if spec is not None else None
