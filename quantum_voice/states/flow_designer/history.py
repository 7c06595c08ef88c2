"""Undo, redo and autosave in the flow designer: a snapshot of the working copy before each edit, and the draft
saved a moment after the last edit. A save the database could not take is tried again, waiting longer each time."""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from typing import Any

import reflex as rx

from quantum_voice.core.errors import DomainError
from quantum_voice.services.flows import document as fd
from quantum_voice.services.flows import editing
from quantum_voice.states.flow_designer.designer import FlowDesignerState
from quantum_voice.states.format import moment

log = logging.getLogger("quantum_voice.designer")
AUTOSAVE_DELAY_SECONDS = 1.2
MAX_RETRY_SECONDS = 30  # a save that failed for the database's sake is tried again, waiting up to this long
HISTORY_LIMIT = 100
GESTURE_SECONDS = 0.6  # edits this close together from one gesture (delete key: nodes, then edges) undo as one


class HistoryState(FlowDesignerState):
    save_status: str = "saved"  # saved | unsaved | saving | error
    saved_at: str = ""
    can_undo: bool = False
    can_redo: bool = False

    _undo: list[dict[str, Any]] = []
    _redo: list[dict[str, Any]] = []
    _last_gesture: tuple[str, float] = ("", 0.0)
    _edit_seq: int = 0
    _saved_seq: int = 0
    _save_failures: int = 0  # in a row, for the database's sake: the retry waits longer each time

    @rx.var
    def save_label(self) -> str:
        return {"saved": "Saved", "unsaved": "Unsaved changes",
                "saving": "Saving…", "error": "Not saved"}.get(self.save_status, "")

    def _start_over(self) -> None:
        """A freshly loaded flow: nothing to undo, nothing unsaved."""
        self._undo, self._redo = [], []
        self._edit_seq = self._saved_seq = 0
        self.save_status = "saved"

    # ------------------------------------------------------------ before and after an edit

    def _checkpoint(self, gesture: str = "") -> None:
        """Remember the flow as it is now, before an edit, so that undo can bring it back."""
        now = time.monotonic()
        last, at = self._last_gesture
        self._last_gesture = (gesture, now)
        if gesture and gesture == last and now - at < GESTURE_SECONDS:
            return
        self._keep_for_undo(copy.deepcopy(self._doc))

    def _keep_for_undo(self, before: dict[str, Any]) -> None:
        """``before`` is what undo brings back next; what redo had is gone."""
        self._undo = (self._undo + [before])[-HISTORY_LIMIT:]
        self._redo = []

    async def _changed(self, *, panel: bool = True):
        """After an edit: check and redraw, and save a moment later (further edits push the save back)."""
        self._edit_seq += 1
        self.save_status = "unsaved"
        await self._refresh(panel=panel)
        return HistoryState.autosave(self._edit_seq)

    def _show_undo(self) -> None:
        self.can_undo, self.can_redo = bool(self._undo), bool(self._redo)

    def _mark_saved(self) -> None:
        """The stored draft is the working copy (a rollback just wrote both)."""
        self._saved_seq = self._edit_seq
        self.save_status = "saved"

    # ------------------------------------------------------------ saving

    @rx.event(background=True)
    async def autosave(self, seq: int, delay: float = AUTOSAVE_DELAY_SECONDS):
        await asyncio.sleep(delay)
        async with self:
            if seq != self._edit_seq or self._saved_seq >= seq:
                return None  # a later edit has its own save coming
            return await self._save()

    async def _save(self):
        if not self.can_edit or self._saved_seq >= self._edit_seq:
            return None
        seq = self._edit_seq
        self.save_status = "saving"
        try:
            with self._signed_in_repo() as repo:
                flow, problems = editing.save_draft(repo, self.campaign_ref, fd.definition_of(self._doc),
                                                    allow_invalid=True)
                saved_at = moment(flow.updated_at)
        except DomainError as exc:
            self.save_status = "error"
            return rx.toast.error(f"The draft was not saved: {exc.message}")
        except Exception:  # noqa: BLE001 - the database did not answer (locked, down): keep the work, try again
            log.exception("saving the draft of campaign %s failed", self.campaign_ref)
            self.save_status, self._save_failures = "error", self._save_failures + 1
            delay = min(AUTOSAVE_DELAY_SECONDS * 2 ** self._save_failures, MAX_RETRY_SECONDS)
            return [rx.toast.error(f"The draft could not be saved just now. Your changes are kept on this page; "
                                   f"trying again in {delay:.0f} s.", id="flow-save-failed"),
                    HistoryState.autosave(seq, delay)]
        self._saved_seq, self._save_failures = seq, 0
        self.save_status = "saved" if seq == self._edit_seq else "unsaved"
        self.saved_at = saved_at
        if seq == self._edit_seq:
            await self._show_problems(problems)  # the service also knows which knowledge bases exist
        return None

    # ------------------------------------------------------------ undo and redo

    @rx.event
    async def undo(self):
        if not self._undo or not self.can_edit:
            return None
        self._redo = self._redo + [copy.deepcopy(self._doc)]
        self._doc = self._undo[-1]
        self._undo = self._undo[:-1]
        self._last_gesture = ("", 0.0)
        (await self._panels()).canvas._forget_missing_selection()  # what was selected may be gone now
        return await self._changed()

    @rx.event
    async def redo(self):
        if not self._redo or not self.can_edit:
            return None
        self._undo = self._undo + [copy.deepcopy(self._doc)]
        self._doc = self._redo[-1]
        self._redo = self._redo[:-1]
        self._last_gesture = ("", 0.0)
        (await self._panels()).canvas._forget_missing_selection()  # what was selected may be gone now
        return await self._changed()
