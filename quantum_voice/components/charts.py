"""The dashboard's plotly figures, built from the analytics' plain numbers, and the card a chart sits in. One look
for every chart: transparent background (light and dark mode), the violet accent, units on the axes."""

from __future__ import annotations

from datetime import date

import plotly.graph_objects as go
import reflex as rx

ACCENT = "#6E56CF"  # violet 9
PALETTE = ["#6E56CF", "#12A594", "#E54D2E", "#FFB224", "#3E63DD", "#D6409F", "#30A46C", "#8E4EC6", "#0090FF",
           "#F76B15", "#978365", "#70B8FF", "#8D8D8D"]
BAND_COLOURS = {"hot": "#E54D2E", "warm": "#FFB224", "cold": "#3E63DD"}
MUTED = "#8B8D98"  # readable on light and dark backgrounds


def _layout(figure: go.Figure, *, y_title: str = "", x_title: str = "", legend: bool = False) -> go.Figure:
    figure.update_layout(
        margin={"l": 48, "r": 16, "t": 8, "b": 40}, height=280, paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)", font={"color": MUTED, "size": 12}, showlegend=legend,
        legend={"orientation": "h", "y": -0.2}, hovermode="x unified" if legend else "closest")
    figure.update_xaxes(title_text=x_title, gridcolor="rgba(139,141,152,0.2)", zeroline=False)
    figure.update_yaxes(title_text=y_title, gridcolor="rgba(139,141,152,0.2)", zeroline=False, rangemode="tozero")
    return figure


def volume_figure(days: list[date], series: list[tuple[str, list[int]]]) -> go.Figure:
    """Calls per day, one stacked bar colour per campaign."""
    x = [d.isoformat() for d in days]
    figure = go.Figure([go.Bar(name=name, x=x, y=counts, marker_color=PALETTE[i % len(PALETTE)])
                        for i, (name, counts) in enumerate(series)])
    figure.update_layout(barmode="stack")
    figure.update_xaxes(type="date", tickformat="%d %b")
    return _layout(figure, y_title="Calls per day", legend=True)


def funnel_figure(stages: list[tuple[str, int]]) -> go.Figure:
    """The funnel as horizontal bars, first stage on top, each with its share of the first stage."""
    first = next((count for _, count in stages if count), 0)
    text = [f"{count}" + (f" · {count / first:.0%}" if first else "") for _, count in stages]
    figure = go.Figure(go.Bar(x=[c for _, c in stages], y=[label for label, _ in stages], orientation="h",
                              marker_color=ACCENT, text=text, textposition="auto"))
    figure.update_yaxes(autorange="reversed")
    return _layout(figure, x_title="People")


def bands_figure(bands: dict[str, int]) -> go.Figure:
    figure = go.Figure(go.Bar(x=[b.capitalize() for b in bands], y=list(bands.values()), text=list(bands.values()),
                              textposition="auto", marker_color=[BAND_COLOURS.get(b, ACCENT) for b in bands]))
    return _layout(figure, y_title="New leads")


def latency_figure(span: list[date], days: list[date], p50: list[float], p95: list[float]) -> go.Figure:
    """p50 and p95 on the days that had measured turns, drawn across the whole range (``span``)."""
    x = [d.isoformat() for d in days]
    figure = go.Figure([go.Scatter(name="p50", x=x, y=p50, mode="lines+markers", line={"color": ACCENT}),
                        go.Scatter(name="p95", x=x, y=p95, mode="lines+markers", line={"color": "#E54D2E",
                                                                                          "dash": "dot"})])
    figure = _layout(figure, y_title="Voice to voice (ms)", legend=True)
    if span:
        first, last = span[0].isoformat(), span[-1].isoformat()
        figure.update_xaxes(type="date", tickformat="%d %b", range=[f"{first} 00:00", f"{last} 23:59"])
    return figure


def chart_card(title: str, hint: str, figure, *, id: str, empty: rx.Var | bool = False,
               empty_text: str = "Nothing in this range yet.") -> rx.Component:
    """A titled card with a chart, or a short line when the range has nothing to draw."""
    return rx.card(
        rx.vstack(
            rx.text(title, size="3", weight="bold"),
            rx.text(hint, size="1", color_scheme="gray"),
            rx.cond(empty, rx.center(rx.text(empty_text, size="2", color_scheme="gray"), height="120px",
                                     width="100%"),
                    rx.plotly.basic(data=figure, config={"displayModeBar": False, "responsive": True},
                                    use_resize_handler=True, width="100%")),
            spacing="2", width="100%",
        ),
        size="2", width="100%", id=id,
    )
