"""What a voice call leaves in the database besides the flow's own steps: each agent turn's timings (and, for an
interrupted turn, the part the caller heard), and at the end the usage of every provider the call used.

Every write runs through ``CallBrain.run``: in a worker thread, in one transaction, never on the event loop. A
turn's write is fire-and-forget (``flush`` waits for those still running); a failed one is logged, never raised
into the call.
"""

from __future__ import annotations

import asyncio
import logging

from agent.brain import CallBrain
from agent.turn_report import TurnReport
from quantum_voice.models.calls import Conversation
from quantum_voice.services import voice_calls

log = logging.getLogger(__name__)


class CallRecorder:
    def __init__(self, brain: CallBrain) -> None:
        self._brain = brain
        self._writes: set[asyncio.Task] = set()
        self._usage_recorded = False

    def record_turn(self, report: TurnReport) -> None:
        """Save the turn's timings on its agent turn; an interrupted turn is marked with what was heard."""
        if self._brain.conversation_id is None or not report.reply or report.agent_seq is None:
            return  # nothing saved for it (an apology for a failed step or a lost turn)

        def write(repo, conversation_id):
            if report.interrupted:
                voice_calls.mark_interrupted(repo, conversation_id, report.heard, seq=report.agent_seq,
                                             unspoken=report.unspoken)
            voice_calls.record_turn_metrics(repo, conversation_id, report.timings, seq=report.agent_seq)

        task = asyncio.ensure_future(self._brain.run(write))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)
        task.add_done_callback(_log_failure)

    async def flush(self) -> None:
        """Wait for every turn write still running (those started meanwhile too)."""
        while self._writes:
            await asyncio.gather(*list(self._writes), return_exceptions=True)

    async def record_usage(self, meters: list) -> None:
        """Save each provider's usage (``agent.voice.Meter``) once, when the call ends."""
        if self._brain.conversation_id is None or self._usage_recorded:
            return
        self._usage_recorded = True

        def write(repo, conversation_id):
            conversation = repo.get(Conversation, conversation_id)
            for meter in meters:
                voice_calls.record_usage(repo, conversation, meter.provider, meter.service, meter.quantity,
                                         meter.unit, model=meter.model)
        try:
            await self._brain.run(write)
        except Exception:
            log.exception("could not record the usage of conversation %s", self._brain.conversation_id)


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("could not record a turn's metrics: %s", task.exception())
