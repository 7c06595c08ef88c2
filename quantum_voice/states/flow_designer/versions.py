"""Publishing in the flow designer, and the published versions: which one is live, whether the draft differs from
it, the list of versions and rolling back to one."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import reflex as rx

from quantum_voice.core.errors import DomainError
from quantum_voice.services import team
from quantum_voice.services.flows import editing, publishing
from quantum_voice.services.flows.schema import FlowDefinition
from quantum_voice.services.tenancy import OrgRepository
from quantum_voice.states.flow_designer.designer import FlowDesignerState
from quantum_voice.states.flow_designer.history import HistoryState
from quantum_voice.states.format import moment


@dataclass
class VersionRow:
    version: int = 0
    published: str = ""
    by: str = ""
    live: bool = False
    node_count: int = 0


class VersionsState(FlowDesignerState):
    published_version: int = 0
    published_at: str = ""
    draft_differs: bool = False
    versions: list[VersionRow] = []
    history_open: bool = False
    rollback_open: bool = False
    rollback_version: int = 0
    publishing: bool = False

    _live_checksum: str = ""

    @rx.var
    def version_label(self) -> str:
        return f"v{self.published_version}" if self.published_version else "Not published"

    def _load_versions(self, repo: OrgRepository) -> None:
        _, flow = editing.campaign_and_flow(repo, self.campaign_ref)
        history = publishing.list_versions(repo, self.campaign_ref)
        people = {m.user_id: m.full_name or m.email for m in team.list_members(repo)}
        live = next((v for v in history if v.id == flow.published_version_id), None)
        self.published_version = live.version if live else 0
        self.published_at = moment(live.published_at) if live else ""
        self._live_checksum = live.checksum if live else ""
        self.versions = [VersionRow(v.version, moment(v.published_at), people.get(v.published_by_id, ""),
                                    v is live, len(v.definition.get("nodes", []))) for v in history]

    def _compare_draft(self, definition: FlowDefinition | None) -> None:
        """``definition``: the working copy as checked; None when it is not a runnable flow."""
        self.draft_differs = definition is None or \
            publishing.checksum(definition.to_json()) != self._live_checksum

    def _close_dialogs(self) -> None:
        self.history_open, self.rollback_open = False, False

    # ------------------------------------------------------------ publishing

    @rx.event
    async def publish(self):
        if refused := self._refuse_read_only():
            return refused
        if self.problems:
            return rx.toast.error(f"Fix the flow before publishing: {self.problems[0].message}")
        history = await self.get_state(HistoryState)
        if (failed := await history._save()) is not None:
            return failed
        self.publishing = True
        try:
            with self._signed_in_repo() as repo:
                version = publishing.publish(repo, self.campaign_ref)
                self._load_versions(repo)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        finally:
            self.publishing = False
        await self._refresh(panel=False)
        return rx.toast.success(f"Published version {version.version}. New calls follow it from now on.")

    # ------------------------------------------------------------ versions and rollback

    @rx.event
    def set_history_open(self, open_: bool):
        self.history_open = open_

    @rx.event
    def ask_rollback(self, version: int):
        self.rollback_version, self.rollback_open = version, True

    @rx.event
    def set_rollback_open(self, open_: bool):
        self.rollback_open = open_

    @rx.event
    async def rollback(self):
        self.rollback_open = False
        if refused := self._refuse_read_only():
            return refused
        version = self.rollback_version
        panels = await self._panels()
        draft = copy.deepcopy(self._doc)  # what Undo brings back, as the dialog promises
        try:
            with self._signed_in_repo() as repo:
                publishing.rollback(repo, self.campaign_ref, version)
                self._load_from(repo, panels)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        panels.history._keep_for_undo(draft)
        self.history_open = False  # back to the canvas, which now shows the version rolled back to
        panels.canvas._forget_missing_selection()
        panels.history._mark_saved()
        await self._refresh()
        return rx.toast.success(f"Version {version} is live again, and the draft is back to it.")
