"""The two page frames: the signed-in app (sidebar, top bar, content) and the centred card of auth pages."""

from __future__ import annotations

import reflex as rx

from quantum_voice.models.accounts import Role
from quantum_voice.services.developer import api_keys
from quantum_voice.services.permissions import Permission, has_permission
from quantum_voice.states.session import SessionState

PRODUCT_NAME = "Quantum Voice"
CONTENT_MAX_WIDTH = "1100px"
SIDEBAR_WIDTH = "240px"
SIGNOUT_URL = "/api/auth/signout"
# Radix breakpoints: index 2 is ≥ 48em (768px). Below it the sidebar becomes a drawer.
DESKTOP_ONLY = ["none", "none", "flex"]
PHONE_ONLY = ["flex", "flex", "none"]


def brand(size: str = "4") -> rx.Component:
    return rx.hstack(
        rx.center(rx.icon("audio-waveform", size=18, color="white"), width="32px", height="32px",
                  border_radius="var(--radius-3)", background_color="var(--accent-9)"),
        rx.text(PRODUCT_NAME, size=size, weight="bold", trim="both"),
        align="center",
        spacing="2",
    )


# The roles that take calls handed off by the AI (the agent workspace), from the permissions table.
CALL_ROLES = [role.value for role in Role if has_permission(role.value, Permission.WORK_CALLS)]
# The roles that see the Developers page (API keys).
DEVELOPER_ROLES = [role.value for role in Role if api_keys.may_view(role.value)]

# ---------------------------------------------------------------- sidebar

def nav_link(label: str, href: str, icon: str, active: bool) -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon(icon, size=18), rx.text(label, size="2", weight="medium"), align="center", spacing="3"),
        href=href,
        underline="none",
        color_scheme="gray" if not active else "violet",
        high_contrast=not active,
        aria_current="page" if active else None,
        padding="8px 12px",
        border_radius="var(--radius-2)",
        width="100%",
        background_color="var(--accent-a3)" if active else "transparent",
        _hover={"background_color": "var(--gray-a3)" if not active else "var(--accent-a4)"},
    )


def nav_links(active: str) -> rx.Component:
    # Only sections that exist; Admin only for roles that may open it.
    return rx.vstack(
        nav_link("Dashboard", "/dashboard", "layout-dashboard", active == "/dashboard"),
        nav_link("Campaigns", "/campaigns", "megaphone", active == "/campaigns"),
        nav_link("Leads", "/leads", "contact", active == "/leads"),
        rx.cond(rx.Var.create(CALL_ROLES).contains(SessionState.role),
                nav_link("Agent workspace", "/agent", "headset", active == "/agent")),
        nav_link("Flows", "/flows", "workflow", active == "/flows"),
        nav_link("Knowledge", "/knowledge", "book-open", active == "/knowledge"),
        nav_link("Team", "/team", "users", active == "/team"),
        nav_link("Integrations", "/integrations", "plug", active == "/integrations"),
        rx.cond(rx.Var.create(DEVELOPER_ROLES).contains(SessionState.role),
                nav_link("Developers", "/developers", "code-xml", active == "/developers")),
        rx.cond(SessionState.can_view_admin, nav_link("Admin", "/admin", "shield-check", active == "/admin")),
        spacing="1",
        width="100%",
        as_="nav",
        aria_label="Main",
    )


# A POST from the app's own page (the API checks its origin), which clears the HTTP-only cookie; then a full page
# load of /login, whatever the answer, so no signed-in page stays on screen.
SIGNOUT_SCRIPT = (f"fetch('{SIGNOUT_URL}', {{method: 'POST', credentials: 'same-origin'}})"
                  ".finally(() => { window.location.href = '/login'; })")


def signout_button(id: str, **props) -> rx.Component:
    return rx.button(rx.icon("log-out", size=16), "Sign out", id=id, on_click=rx.call_script(SIGNOUT_SCRIPT),
                     variant="soft", color_scheme="gray", size="2", **props)


def sidebar_footer(signout_id: str) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.avatar(fallback=SessionState.user_initials, size="2", radius="full"),
            rx.vstack(
                rx.text(SessionState.user_display, size="2", weight="medium", trim="both"),
                rx.text(SessionState.role, size="1", color_scheme="gray", trim="both"),
                spacing="1", min_width="0",
            ),
            align="center", width="100%",
        ),
        signout_button(signout_id, width="100%"),
        spacing="3", width="100%", padding_top="12px", border_top="1px solid var(--gray-a5)",
    )


def sidebar_body(active: str, signout_id: str) -> rx.Component:
    return rx.vstack(brand(), nav_links(active), rx.spacer(), sidebar_footer(signout_id),
                     spacing="5", height="100%", width="100%")


def sidebar(active: str) -> rx.Component:
    return rx.box(
        sidebar_body(active, "signout"),
        display=DESKTOP_ONLY,
        width=SIDEBAR_WIDTH,
        min_width=SIDEBAR_WIDTH,
        height="100vh",
        position="sticky",
        top="0",
        padding="20px 16px",
        border_right="1px solid var(--gray-a5)",
        background_color="var(--gray-1)",
    )


def mobile_nav(active: str) -> rx.Component:
    return rx.drawer.root(
        rx.drawer.trigger(rx.icon_button(rx.icon("menu"), variant="ghost", color_scheme="gray", size="3",
                                         aria_label="Open menu")),
        rx.drawer.overlay(z_index="50"),
        rx.drawer.portal(
            rx.drawer.content(
                rx.box(sidebar_body(active, "signout-drawer"), height="100%", padding="20px 16px"),
                width="280px", height="100%", top="0", left="0", z_index="51",
                background_color="var(--color-panel-solid)",
            ),
        ),
        direction="left",
    )


# ---------------------------------------------------------------- top bar

def user_menu() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.avatar(fallback=SessionState.user_initials, size="1", radius="full"),
                rx.text(SessionState.user_display, size="2", display=["none", "inline"]),
                rx.icon("chevron-down", size=14),
                variant="ghost", color_scheme="gray", id="user-menu", aria_label="Account menu",
            ),
        ),
        rx.menu.content(
            rx.box(rx.text(SessionState.user_email, size="2", weight="medium"),
                   rx.text("Role: ", SessionState.role, size="1", color_scheme="gray"), padding="4px 8px"),
            rx.menu.separator(),
            rx.menu.item(rx.icon("log-out", size=14), "Sign out", on_click=rx.call_script(SIGNOUT_SCRIPT)),
            align="end",
        ),
    )


def topbar(active: str) -> rx.Component:
    return rx.hstack(
        rx.box(mobile_nav(active), display=PHONE_ONLY),
        rx.hstack(
            rx.icon("building-2", size=16, color="var(--gray-10)"),
            rx.text(SessionState.org_name, id="topbar-org", size="2", weight="medium", trim="both",
                    overflow="hidden", text_overflow="ellipsis", white_space="nowrap"),
            align="center", spacing="2", min_width="0",
        ),
        rx.spacer(),
        rx.color_mode.button(size="2", variant="ghost", color_scheme="gray"),
        user_menu(),
        align="center",
        spacing="3",
        height="56px",
        padding_x=["12px", "16px", "24px"],
        border_bottom="1px solid var(--gray-a5)",
        position="sticky",
        top="0",
        z_index="10",
        background_color="var(--color-background)",
        width="100%",
    )


# ---------------------------------------------------------------- frames

def page_header(title: str, description: str = "", action: rx.Component | None = None,
                title_id: str = "") -> rx.Component:
    heading = rx.heading(title, size="7", id=title_id or None)
    text = rx.vstack(heading, rx.text(description, size="2", color_scheme="gray") if description else rx.fragment(),
                     spacing="1")
    return rx.flex(text, rx.spacer(), action or rx.fragment(), align="start", gap="3", width="100%",
                   direction=rx.breakpoints(initial="column", xs="row"))


def app_layout(content: rx.Component, active: str, *, wide: bool = False) -> rx.Component:
    """Every signed-in page. Content appears once the session is confirmed, so a signed-out visitor
    never sees another person's stale data while being redirected. ``wide``: the full width (the flow
    designer's canvas), not the reading width of list pages."""
    return rx.hstack(
        sidebar(active),
        rx.box(
            topbar(active),
            rx.box(
                rx.cond(SessionState.signed_in, content, rx.center(rx.spinner(size="3"), padding="64px")),
                max_width="none" if wide else CONTENT_MAX_WIDTH,
                margin_x="auto",
                padding=["16px", "20px", "20px 24px" if wide else "32px"],
                width="100%",
                as_="main",
            ),
            flex="1",
            min_width="0",
        ),
        spacing="0",
        align="start",
        width="100%",
        min_height="100vh",
    )


def auth_layout(*children: rx.Component) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.link(brand("5"), href="/login", underline="none", color="var(--gray-12)"),
            rx.card(rx.vstack(*children, spacing="4", width="100%"), size="3", width="100%"),
            rx.text("AI voice agents that turn calls into qualified leads.", size="1", color_scheme="gray"),
            align="center",
            spacing="5",
            width="100%",
            max_width="420px",
            as_="main",
        ),
        min_height="100vh",
        padding="24px 16px",
        background="radial-gradient(circle at 50% 0%, var(--accent-a3), transparent 60%)",
    )
