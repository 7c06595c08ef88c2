"""/team: members, roles and invitations."""

import reflex as rx

from quantum_voice.components import forms
from quantum_voice.components.forms import NATIVE_SELECT_STYLE, field, form_alert, text_input
from quantum_voice.components.layout import app_layout, page_header
from quantum_voice.states.team import InvitationRow, MemberRow, RoleOption, TeamState as S


def role_select(member: MemberRow) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label="Role of " + member.email, variant="soft"),
        rx.select.content(rx.foreach(S.roles, lambda r: rx.select.item(r.label, value=r.value))),
        value=member.role,
        on_change=lambda role: S.change_role(member.membership_id, role),
        size="1",
    )


WIDE_ONLY = ["none", "none", "table-cell"]  # columns that phones skip, so a row fits 390px


def member_row(member: MemberRow) -> rx.Component:
    who = rx.cond(member.name != "", member.name, member.email)
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(
            rx.hstack(rx.text(who, weight="medium"), rx.cond(member.is_me, rx.badge("you", variant="outline")),
                      align="center", spacing="2"),
            rx.cond(member.name != "", rx.text(member.email, size="1", color_scheme="gray")),
            spacing="0",
        )),
        rx.table.cell(rx.cond(S.can_manage_team, role_select(member), rx.badge(member.role, variant="soft"))),
        rx.table.cell(rx.cond(member.verified, rx.badge("Verified", color_scheme="green", variant="soft"),
                              rx.badge("Unverified", color_scheme="amber", variant="soft")), display=WIDE_ONLY),
        rx.table.cell(member.joined, white_space="nowrap", display=WIDE_ONLY),
        rx.cond(S.can_manage_team, rx.table.cell(
            rx.icon_button(rx.icon("trash-2", size=16), variant="ghost", color_scheme="red",
                           aria_label="Remove " + member.email, on_click=S.ask_remove(member.membership_id, who)),
        )),
        align="center",
    )


def members_table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(
                rx.table.column_header_cell("Member"),
                rx.table.column_header_cell("Role"),
                rx.table.column_header_cell("Email status", display=WIDE_ONLY),
                rx.table.column_header_cell("Joined", display=WIDE_ONLY),
                rx.cond(S.can_manage_team, rx.table.column_header_cell("")),
            )),
            rx.table.body(rx.foreach(S.members, member_row)),
            variant="surface", size="2", width="100%",
        ),
        overflow_x="auto", width="100%",
    )


def invitation_row(invitation: InvitationRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.text(invitation.email, word_break="break-all")),
        rx.table.cell(rx.badge(invitation.role, variant="soft")),
        rx.table.cell(rx.cond(invitation.expired, rx.badge("Expired", color_scheme="red", variant="soft"),
                              rx.text("Until ", invitation.expires)), display=WIDE_ONLY),
        rx.table.cell(rx.button("Revoke", size="1", variant="soft", color_scheme="red",
                                on_click=S.ask_revoke(invitation.id, invitation.email))),
        align="center",
    )


def invitations_section() -> rx.Component:
    return rx.vstack(
        rx.heading("Pending invitations", size="4"),
        rx.cond(
            S.invitations.length() > 0,
            rx.box(rx.table.root(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell("Email"), rx.table.column_header_cell("Role"),
                    rx.table.column_header_cell("Expires", display=WIDE_ONLY), rx.table.column_header_cell(""))),
                rx.table.body(rx.foreach(S.invitations, invitation_row)),
                variant="surface", size="2", width="100%",
            ), overflow_x="auto", width="100%"),
            rx.text("No pending invitations. Invite a teammate to share the work of following up on leads.",
                    size="2", color_scheme="gray"),
        ),
        spacing="3", width="100%",
    )


def role_options(role: RoleOption) -> rx.Component:
    return rx.el.option(role.label, value=role.value)


def invite_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("user-plus", size=16), "Invite teammate", id="invite-open", size="2")),
        rx.dialog.content(
            rx.dialog.title("Invite a teammate"),
            rx.dialog.description("They get an email with a link to join your organisation.", size="2",
                                  margin_bottom="16px"),
            rx.form(
                rx.vstack(
                    text_input("Email", id="invite-email", name="email", type="email", state=S, required=True,
                               placeholder="teammate@company.com", auto_focus=True),
                    field("Role", rx.el.select(rx.foreach(S.roles, role_options), id="invite-role", name="role",
                                               value=S.invite_role, on_change=S.set_invite_role,
                                               style=NATIVE_SELECT_STYLE),
                          id="invite-role", state=S, name="role", hint=S.invite_role_description),
                    form_alert(S),
                    rx.flex(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Send invitation", id="invite-submit", type="submit"),
                        spacing="3", justify="end", width="100%",
                    ),
                    spacing="4", width="100%",
                ),
                on_submit=S.send_invite, width="100%",
            ),
            max_width="460px",
        ),
        open=S.invite_open,
        on_open_change=S.set_invite_open,
    )


def confirm_dialog() -> rx.Component:
    return forms.confirm_dialog(title=S.confirm_title, text=S.confirm_text, action_label="Confirm",
                                on_confirm=S.confirm, open_=S.confirm_open, on_open_change=S.set_confirm_open)


def team_page() -> rx.Component:
    content = rx.vstack(
        page_header("Team", "Who works in this organisation, and what each person may do.",
                    rx.cond(S.can_manage_team, invite_dialog())),
        rx.cond(~S.can_manage_team,
                rx.callout("You can see the team. Owners and admins can invite people and change roles.",
                           icon="eye", color_scheme="gray", width="100%")),
        rx.cond(S.loaded, members_table(), rx.skeleton(height="160px", width="100%")),
        rx.cond(S.can_manage_team, invitations_section()),
        confirm_dialog(),
        spacing="5", width="100%",
    )
    return app_layout(content, "/team")
