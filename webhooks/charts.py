"""The dashboard's charts as inline SVG, drawn on the server: readable without JavaScript.

Each function returns markup safe to put in a template; every text in it is escaped. Elements
carry class names (rate-line, healthy-band, point score, ...) that the stylesheet colours and
the browser tests look for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Sequence

from markupsafe import Markup, escape

from ticketpulse.escalation.reports import HEALTHY_RATE, Bucket

WIDTH, HEIGHT = 760, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 34


def utc_minute(moment: datetime) -> str:
    """A time as the dashboard shows it: UTC, to the minute. PostgreSQL hands timestamps over in
    the session's time zone (the server's TimeZone setting), not necessarily UTC."""
    return f"{moment.astimezone(timezone.utc):%Y-%m-%d %H:%M}"


def _svg(body: list[str], label: str, css_class: str) -> Markup:
    return Markup(
        f'<svg class="chart {css_class}" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>'
        + "".join(body)
        + "</svg>"
    )


def _plot_width() -> float:
    return WIDTH - LEFT - RIGHT


def _plot_height() -> float:
    return HEIGHT - TOP - BOTTOM


def _x_labels(labels: Sequence[str], xs: Sequence[float]) -> list[str]:
    """At most ~8 labels along the x axis, evenly spaced."""
    if not labels:
        return []
    step = max(1, -(-len(labels) // 8))
    parts = []
    for index in range(0, len(labels), step):
        text = labels[index][5:] if len(labels[index]) >= 10 else labels[index]  # drop the year
        parts.append(f'<text class="axis-label" x="{xs[index]:.1f}" y="{HEIGHT - 12}" text-anchor="middle">{escape(text)}</text>')
    return parts


def rate_chart(buckets: Sequence[Bucket]) -> Markup:
    """The escalation rate per bucket as a line, against the healthy 5-15 % band."""
    low, high = HEALTHY_RATE
    rates = [bucket.rate for bucket in buckets]
    top = max([0.3] + [rate for rate in rates if rate is not None])
    top = min(1.0, (int(top * 10) + 1) / 10)

    def y(rate: float) -> float:
        return TOP + _plot_height() * (1 - rate / top)

    count = len(buckets)
    xs = [LEFT + _plot_width() * (index + 0.5) / max(count, 1) for index in range(count)]
    body = [
        f'<rect class="healthy-band" x="{LEFT}" y="{y(high):.1f}" width="{_plot_width()}" height="{y(low) - y(high):.1f}">'
        f"<title>healthy: {low:.0%}-{high:.0%} of conversations escalated</title></rect>",
    ]
    for tick in (0, low, high, top):
        body.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>')
        body.append(f'<text class="axis-label" x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:.0%}</text>')
    segment: list[str] = []
    segments: list[list[str]] = []
    for x, rate in zip(xs, rates):
        if rate is None:  # no conversations: a gap, not a zero
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{x:.1f},{y(rate):.1f}")
    if segment:
        segments.append(segment)
    for points in segments:
        body.append(f'<polyline class="rate-line" points="{" ".join(points)}"/>')
    for x, bucket in zip(xs, buckets):
        if bucket.rate is None:
            continue
        body.append(
            f'<circle class="point rate" cx="{x:.1f}" cy="{y(bucket.rate):.1f}" r="3.5">'
            f"<title>{escape(bucket.label)}: {bucket.rate:.1%} ({bucket.escalated} of {bucket.conversations})</title></circle>"
        )
    body += _x_labels([bucket.label for bucket in buckets], xs)
    return _svg(body, "Escalation rate per period against the healthy 5-15 % band", "rate-chart")


def volume_chart(buckets: Sequence[Bucket]) -> Markup:
    """Conversations per bucket as bars, the escalated part of each darker."""
    count = len(buckets)
    top = max([1] + [bucket.conversations for bucket in buckets])
    slot = _plot_width() / max(count, 1)
    bar = max(1.0, slot * 0.7)

    def y(value: float) -> float:
        return TOP + _plot_height() * (1 - value / top)

    body = [
        f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
        f'<text class="axis-label" x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v}</text>'
        for v in sorted({0, top // 2, top})
    ]
    xs = []
    for index, bucket in enumerate(buckets):
        x = LEFT + slot * index + (slot - bar) / 2
        xs.append(x + bar / 2)
        label = f"{bucket.label}: {bucket.conversations} conversations, {bucket.escalated} escalated"
        body.append(
            f'<rect class="bar conversations" x="{x:.1f}" y="{y(bucket.conversations):.1f}" width="{bar:.1f}" '
            f'height="{y(0) - y(bucket.conversations):.1f}"><title>{escape(label)}</title></rect>'
        )
        if bucket.escalated:
            body.append(
                f'<rect class="bar escalated" x="{x:.1f}" y="{y(bucket.escalated):.1f}" width="{bar:.1f}" '
                f'height="{y(0) - y(bucket.escalated):.1f}"><title>{escape(label)}</title></rect>'
            )
    body += _x_labels([bucket.label for bucket in buckets], xs)
    return _svg(body, "Conversations and escalated conversations per period", "volume-chart")


def mix_chart(counts: dict[str, int], css_class: str, label: str) -> Markup:
    """Horizontal bars, one per name (a severity or rule)."""
    rows = list(counts.items())
    height = 28 * max(len(rows), 1) + 8
    top = max([1] + [count for _, count in rows])
    width = 420
    body = []
    for index, (name, count) in enumerate(rows):
        y = 6 + index * 28
        length = (width - 200) * count / top
        body.append(
            f'<text class="axis-label" x="150" y="{y + 15}" text-anchor="end">{escape(name)}</text>'
            f'<rect class="bar mix {escape(name)}" x="156" y="{y}" width="{length:.1f}" height="20"><title>{escape(name)}: {count}</title></rect>'
            f'<text class="value" x="{160 + length:.1f}" y="{y + 15}">{count}</text>'
        )
    return Markup(
        f'<svg class="chart {css_class}" viewBox="0 0 {width} {height}" width="{width}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>' + "".join(body) + "</svg>"
    )


@dataclass(frozen=True)
class Point:
    at: datetime
    score: float
    frustration: float
    label: str
    number: int  # the message's number in the ticket page's table (skipped comments count too)


@dataclass(frozen=True)
class Mark:
    at: datetime
    severity: str
    rule: str


def trajectory_chart(
    points: Sequence[Point], marks: Sequence[Mark], *, negative: float, frustration: float, critical: float
) -> Markup:
    """Score (-1..1) and frustration (0..1) per customer message over time, thresholds and escalations."""
    times = [point.at for point in points] + [mark.at for mark in marks]
    start, end = (min(times), max(times)) if times else (None, None)
    span = (end - start).total_seconds() if start and end else 0

    def x(at: datetime) -> float:
        if not span:
            return LEFT + _plot_width() / 2
        return LEFT + 10 + (_plot_width() - 20) * (at - start).total_seconds() / span

    def y(value: float) -> float:
        return TOP + _plot_height() * (1 - (value + 1) / 2)

    body = []
    for tick in (-1, -0.5, 0, 0.5, 1):
        body.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>')
        body.append(f'<text class="axis-label" x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:+.1f}</text>')
    for value, css, name in (
        (negative, "threshold negative", f"negative score threshold {negative:+.2f}"),
        (frustration, "threshold frustration", f"frustration threshold {frustration:.2f}"),
        (critical, "threshold critical", f"critical frustration threshold {critical:.2f}"),
    ):
        body.append(
            f'<line class="{css}" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}"><title>{escape(name)}</title></line>'
            f'<text class="threshold-label {css}" x="{LEFT + 4}" y="{y(value) - 4:.1f}">{escape(name)}</text>'
        )
    for mark in marks:
        near_right = x(mark.at) > WIDTH - RIGHT - 80
        anchor = f'x="{x(mark.at) - 4:.1f}" text-anchor="end"' if near_right else f'x="{x(mark.at) + 4:.1f}"'
        body.append(
            f'<line class="escalation-mark {escape(mark.severity)}" x1="{x(mark.at):.1f}" x2="{x(mark.at):.1f}" y1="{TOP}" y2="{TOP + _plot_height()}">'
            f"<title>escalated: {escape(mark.severity)} ({escape(mark.rule)})</title></line>"
            f'<text class="escalation-label" {anchor} y="{TOP + _plot_height() - 6}">{escape(mark.severity)}</text>'
        )
    if len(points) > 1:
        body.append('<polyline class="score-line" points="' + " ".join(f"{x(p.at):.1f},{y(p.score):.1f}" for p in points) + '"/>')
        body.append('<polyline class="frustration-line" points="' + " ".join(f"{x(p.at):.1f},{y(p.frustration):.1f}" for p in points) + '"/>')
    for point in points:
        stamp, number = utc_minute(point.at), point.number
        body.append(
            f'<circle class="point score" cx="{x(point.at):.1f}" cy="{y(point.score):.1f}" r="4.5">'
            f"<title>message {number}, {stamp}: score {point.score:+.2f} ({escape(point.label)})</title></circle>"
            f'<rect class="point frustration" x="{x(point.at) - 4:.1f}" y="{y(point.frustration) - 4:.1f}" width="8" height="8">'
            f"<title>message {number}, {stamp}: frustration {point.frustration:.2f}</title></rect>"
        )
    if start and end:
        body.append(f'<text class="axis-label" x="{LEFT}" y="{HEIGHT - 12}">{utc_minute(start)}</text>')
        if span:
            body.append(f'<text class="axis-label" x="{WIDTH - RIGHT}" y="{HEIGHT - 12}" text-anchor="end">{utc_minute(end)}</text>')
    return _svg(body, "Sentiment score and frustration per customer message, with thresholds and escalations", "trajectory-chart")
