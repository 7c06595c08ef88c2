"""The lead list's view (filters, sort, page) as it lives in the URL: ``/leads?band=hot&status=new&page=2``.

The URL is the one source of truth, so a copied link opens the same view. The query parameters are the API's own
(``GET /api/leads`` and ``/api/leads/export.csv`` take the same names), so the CSV link is the view minus its sort
and page. Reading is forgiving: a value that is not one of the choices is dropped (a hand-edited or old link still
opens the list), and only what the services would refuse anyway (a start date after the end) reaches them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import date
from urllib.parse import urlencode

from quantum_voice.models.leads import LeadBand, LeadStatus
from quantum_voice.services.leads.records import SORTS, UNASSIGNED, LeadFilter

DEFAULT_SORT = "newest"
MAX_QUERY_CHARS = 200
EXPORT_PATH = "/api/leads/export.csv"
UNASSIGNED_PARAM = "none"


@dataclass(frozen=True)
class LeadView:
    """Every field as the URL spells it ("" = not filtered)."""

    q: str = ""
    campaign_id: str = ""  # a campaign's id
    band: str = ""
    status: str = ""
    assignee: str = ""  # a member's user id, or "none" for unassigned
    created_from: str = ""  # YYYY-MM-DD
    created_to: str = ""
    include_tests: bool = False
    sort: str = DEFAULT_SORT
    page: int = 0  # 0-based here, 1-based in the URL ("page=2" is the second page)

    @property
    def filtered(self) -> bool:
        """Whether anything narrows the list (the test-call switch counts: it widens what "all" means)."""
        return any((self.q, self.campaign_id, self.band, self.status, self.assignee, self.created_from,
                    self.created_to, self.include_tests))

    def with_changes(self, **changes) -> "LeadView":
        """The view with ``changes``; any change other than the page itself starts again at the first page."""
        page = changes.pop("page", 0)
        return replace(self, **changes, page=page)


def _id(value: str) -> str:
    value = value.strip()
    return value if value.isdigit() and len(value) <= 12 else ""


def _day(value: str) -> str:
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        return ""


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def read_view(params: Mapping[str, str]) -> LeadView:
    """The view a URL's query parameters describe; values that are not choices are dropped."""
    get = lambda name: str(params.get(name) or "")  # noqa: E731
    assignee = get("assignee").strip().lower()
    page = get("page").strip()
    return LeadView(
        q=" ".join(get("q").split())[:MAX_QUERY_CHARS],
        campaign_id=_id(get("campaign_id")),
        band=get("band") if get("band") in {b.value for b in LeadBand} else "",
        status=get("status") if get("status") in {s.value for s in LeadStatus} else "",
        assignee=UNASSIGNED_PARAM if assignee == UNASSIGNED_PARAM else _id(assignee),
        created_from=_day(get("created_from")),
        created_to=_day(get("created_to")),
        include_tests=_flag(get("include_tests")),
        sort=get("sort") if get("sort") in SORTS else DEFAULT_SORT,
        page=int(page) - 1 if page.isdigit() and 0 < int(page) < 1_000_000 else 0,
    )


def _params(view: LeadView, *, paging: bool) -> list[tuple[str, str]]:
    defaults = asdict(LeadView())
    pairs = []
    for name, value in asdict(view).items():
        if name in ("sort", "page") and not paging:
            continue
        if value == defaults[name]:
            continue
        if name == "include_tests":
            value = "true"
        elif name == "page":
            value = value + 1
        pairs.append((name, str(value)))
    return pairs


def view_url(view: LeadView, path: str = "/leads") -> str:
    """The page's URL for ``view``: only what differs from the default, so the plain list is plain ``/leads``."""
    query = urlencode(_params(view, paging=True))
    return f"{path}?{query}" if query else path


def export_url(view: LeadView) -> str:
    """The CSV of the view's filter (every matching lead, not just this page)."""
    query = urlencode(_params(view, paging=False))
    return f"{EXPORT_PATH}?{query}" if query else EXPORT_PATH


def lead_filter(view: LeadView) -> LeadFilter:
    """What ``records.list_page`` takes. A start date after the end date passes through: the service says so."""
    assignee = (UNASSIGNED if view.assignee == UNASSIGNED_PARAM
                else int(view.assignee) if view.assignee else None)
    return LeadFilter(query=view.q, campaign_id=int(view.campaign_id) if view.campaign_id else None,
                      band=view.band or None, status=view.status or None, assignee_user_id=assignee,
                      created_from=date.fromisoformat(view.created_from) if view.created_from else None,
                      created_to=date.fromisoformat(view.created_to) if view.created_to else None,
                      include_tests=view.include_tests)
