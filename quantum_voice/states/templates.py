"""The flow templates as the UI offers them (the new-campaign dialog, the designer of a campaign with no flow)."""

from __future__ import annotations

from dataclasses import dataclass

from quantum_voice.services.flows.templates import TEMPLATES


@dataclass
class TemplateOption:
    key: str = ""
    name: str = ""
    description: str = ""


def template_options() -> list[TemplateOption]:
    return [TemplateOption(t.key, t.name, t.description) for t in TEMPLATES.values()]
