"""The flow designer's parent state: which campaign's flow is open, who may change it, and the working copy every
panel shows, with its problems and the organisation's knowledge bases.

Each panel is a substate of this one (see ``__init__.py``). An event that changes another panel reaches it with
``get_state``; after the working copy changes, ``_refresh`` has every panel show it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import reflex as rx

from quantum_voice.core.errors import DomainError
from quantum_voice.services.flows import document as fd
from quantum_voice.services.flows import editing
from quantum_voice.services.flows.validation import FlowProblem, check_flow
from quantum_voice.services.knowledge.documents import list_knowledge_bases
from quantum_voice.services.permissions import Permission, has_permission
from quantum_voice.services.tenancy import OrgRepository
from quantum_voice.states.format import moment
from quantum_voice.states.session import SessionState
from quantum_voice.states.templates import TemplateOption, template_options

if TYPE_CHECKING:
    from quantum_voice.states.flow_designer.canvas import CanvasState
    from quantum_voice.states.flow_designer.history import HistoryState
    from quantum_voice.states.flow_designer.inspector import InspectorState
    from quantum_voice.states.flow_designer.simulator import SimulatorState
    from quantum_voice.states.flow_designer.versions import VersionsState


@dataclass
class ProblemRow:
    message: str = ""
    node_id: str = ""
    code: str = ""


@dataclass
class Panels:
    """Every panel of one browser tab's designer, loaded."""

    canvas: CanvasState
    inspector: InspectorState
    history: HistoryState
    versions: VersionsState
    simulator: SimulatorState


class FlowDesignerState(SessionState):
    loaded: bool = False
    missing: str = ""  # why there is nothing to show (no such campaign)
    no_flow: bool = False  # the campaign exists but has no flow yet: offer the templates
    templates: list[TemplateOption] = []
    campaign_ref: int = 0
    campaign_name: str = ""
    flow_name: str = ""
    can_edit: bool = False
    problems: list[ProblemRow] = []

    _doc: dict[str, Any] = {}  # the working copy (services/flows/document.py)
    _kb_names: dict[int, str] = {}
    _node_problems: dict[str, str] = {}
    _edge_problems: list[str] = []

    @rx.var
    def problem_count(self) -> int:
        return len(self.problems)

    # ------------------------------------------------------------ loading

    @rx.event
    async def load(self):
        if redirect := self._guard():
            return redirect
        self.loaded, self.missing, self.no_flow = False, "", False
        self.campaign_ref = self._id_from_url()
        self.can_edit = has_permission(self.role, Permission.MANAGE_CAMPAIGNS)
        panels = await self._panels()
        try:
            with self._signed_in_repo() as repo:
                self._load_from(repo, panels)
        except DomainError as exc:
            self.no_flow = exc.code == "no_flow"
            self.templates = template_options()
            self.missing = exc.message if not self.no_flow else ""
            return None
        panels.history._start_over()
        panels.canvas._start_over()
        panels.versions._close_dialogs()
        panels.simulator._start_over(panels.canvas)
        await self._refresh()
        self.loaded = True
        return None

    @rx.event
    def create_from_template(self, template: str):
        if refused := self._refuse_read_only():
            return refused
        try:
            with self._signed_in_repo() as repo:
                editing.create_flow(repo, self.campaign_ref, template)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        return FlowDesignerState.load

    async def _panels(self) -> Panels:
        """Every panel of this tab, for an event that changes more than its own (``get_state`` loads each)."""
        # Imported here rather than at the top: each panel's module imports this one.
        from quantum_voice.states.flow_designer.canvas import CanvasState
        from quantum_voice.states.flow_designer.history import HistoryState
        from quantum_voice.states.flow_designer.inspector import InspectorState
        from quantum_voice.states.flow_designer.simulator import SimulatorState
        from quantum_voice.states.flow_designer.versions import VersionsState

        return Panels(await self.get_state(CanvasState), await self.get_state(InspectorState),
                      await self.get_state(HistoryState), await self.get_state(VersionsState),
                      await self.get_state(SimulatorState))

    def _load_from(self, repo: OrgRepository, panels: Panels) -> None:
        """The flow as stored: the working copy, when it was saved, the knowledge bases and the versions."""
        campaign, flow = editing.campaign_and_flow(repo, self.campaign_ref)
        self.campaign_name, self.flow_name = campaign.name, flow.name
        self._doc = fd.normalise(flow.draft)
        panels.history.saved_at = moment(flow.updated_at)
        self._kb_names = {s.knowledge_base.id: s.knowledge_base.name for s in list_knowledge_bases(repo)}
        panels.inspector._show_knowledge_bases()
        panels.versions._load_versions(repo)

    # ------------------------------------------------------------ showing the working copy

    async def _refresh(self, *, panel: bool = True) -> None:
        """Check the flow (the service's rules), then have every panel show it. ``panel=False`` leaves the property
        panel's inputs alone (they hold what is being typed)."""
        panels = await self._panels()
        check = check_flow(fd.definition_of(self._doc))
        panels.versions._compare_draft(check.definition)
        self._set_problems(check.problems)
        panels.inspector._show_problem()
        panels.inspector._show_variables()
        panels.canvas._redraw()
        if panel:
            panels.canvas._show_selection_in(panels.inspector)
        panels.history._show_undo()

    async def _show_problems(self, problems: list[FlowProblem]) -> None:
        """The problems the service found on saving (it also knows which knowledge bases exist), if they differ."""
        if [p.message for p in problems] != [p.message for p in self.problems]:
            panels = await self._panels()
            self._set_problems(problems)
            panels.inspector._show_problem()
            panels.canvas._redraw()

    def _set_problems(self, problems: list[FlowProblem]) -> None:
        self._node_problems = {}
        for problem in problems:
            if problem.node_id and problem.node_id not in self._node_problems:
                self._node_problems[problem.node_id] = problem.message
        edge_ids = [e["id"] for e in self._doc["edges"]]
        self._edge_problems = [edge_ids[p.edge_index] for p in problems
                               if p.edge_index is not None and p.edge_index < len(edge_ids)]
        self.problems = [ProblemRow(p.message, p.node_id or "", p.code) for p in problems]

    def _refuse_read_only(self):
        return None if self.can_edit else rx.toast.info(
            "You can look at this flow. Owners, admins and managers can change it.")
