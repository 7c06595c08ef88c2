"""Start: the greeting (with the voice and the ring sequence for the voice pipeline), then straight on."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from quantum_voice.services.flows.hearing import Heard
    from quantum_voice.services.flows.schema import StartNode
    from quantum_voice.services.flows.step import Step


def enter(step: "Step", node: "StartNode") -> None:
    step.say(node.config.greeting, voice=node.config.voice, ring_sequence=node.config.ring_sequence)
    step.follow("next")


def respond(step: "Step", node: "StartNode", heard: "Heard") -> None:
    step.follow("next")  # only reached if a flow was changed under a live call: move on
