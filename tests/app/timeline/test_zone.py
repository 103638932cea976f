"""The camera's days begin at its own midnight, also for recordings from before a daylight-saving change: the
zone is made of the UTC offsets list.cgi reported for each recording, not the newest one's alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.timeline.scale import day_boundaries
from app.timeline.zone import ObservedZone

WINTER, SUMMER = timedelta(hours=1), timedelta(hours=2)
CHANGE = datetime(2026, 3, 29, 1, 0, tzinfo=UTC).timestamp()  # Europe's spring change, 01:00 UTC


def stockholm_as_observed() -> ObservedZone:
    """What a camera in Stockholm reports: recordings before the change at +01:00, after it at +02:00."""
    before = datetime(2026, 3, 20, 12, tzinfo=UTC).timestamp()
    after = datetime(2026, 3, 29, 6, tzinfo=UTC).timestamp()
    return ObservedZone({before: WINTER, after: SUMMER})


def test_days_before_and_after_the_change_begin_at_local_midnight():
    zone = stockholm_as_observed()
    days = day_boundaries(
        datetime(2026, 3, 26, tzinfo=UTC).timestamp(), datetime(2026, 4, 1, tzinfo=UTC).timestamp(), zone
    )
    midnights = [datetime.fromtimestamp(d.moment, UTC) for d in days]
    assert midnights[0] == datetime(2026, 3, 26, 23, tzinfo=UTC)  # 27 March, 00:00 at +01:00
    assert datetime(2026, 3, 30, 22, tzinfo=UTC) in midnights  # 31 March, 00:00 at +02:00
    assert [d.label[:6] for d in days] == ["Fri 27", "Sat 28", "Sun 29", "Mon 30", "Tue 31", "Wed 01"]


def test_one_offset_is_a_fixed_zone_and_no_offset_is_utc():
    fixed = ObservedZone({0.0: timedelta(hours=-5)})
    assert datetime.fromtimestamp(86400 * 100, fixed).hour == 19
    assert datetime.fromtimestamp(3600, ObservedZone({})).hour == 1


@given(
    st.dictionaries(
        st.floats(min_value=0, max_value=2e9, allow_nan=False),
        st.integers(min_value=-12 * 4, max_value=14 * 4).map(lambda q: timedelta(minutes=15 * q)),
        min_size=1,
        max_size=8,
    ),
    st.floats(min_value=86400, max_value=2e9 - 86400, allow_nan=False),
)
def test_a_moment_shows_with_the_offset_observed_last_before_it(observations, moment):
    zone = ObservedZone(observations)
    before = [m for m in observations if m <= moment]
    expected = observations[max(before)] if before else observations[min(observations)]
    local = datetime.fromtimestamp(moment, zone)
    assert local.replace(tzinfo=None) == datetime.fromtimestamp(moment, UTC).replace(tzinfo=None) + expected
