"""The stretch of days and the campaign the analytics look at. Days are UTC calendar days, like every timestamp
the database keeps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from quantum_voice.core.clock import utcnow
from quantum_voice.core.errors import ValidationFailed

MAX_DAYS = 366  # a year and a leap day: every query stays bounded


@dataclass(frozen=True)
class AnalyticsFilter:
    first_day: date
    last_day: date  # included
    campaign_id: int | None = None  # None: every campaign of the organisation

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValidationFailed("The range ends before it starts. Pick an end date on or after the start.",
                                   field="range")
        if self.day_count > MAX_DAYS:
            raise ValidationFailed(f"Pick a range of at most {MAX_DAYS} days.", field="range")

    @classmethod
    def last_days(cls, days: int, *, today: date | None = None, campaign_id: int | None = None) -> AnalyticsFilter:
        """The ``days`` days up to and including today."""
        today = today or utcnow().date()
        return cls(today - timedelta(days=max(int(days), 1) - 1), today, campaign_id)

    @property
    def day_count(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.first_day, time.min, tzinfo=timezone.utc)

    @property
    def ends_before(self) -> datetime:
        return datetime.combine(self.last_day + timedelta(days=1), time.min, tzinfo=timezone.utc)

    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=i) for i in range(self.day_count)]

    def within(self, column) -> list:
        """``column`` (a UTC timestamp) inside the range, as SQL conditions."""
        return [column >= self.starts_at, column < self.ends_before]
