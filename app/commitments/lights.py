"""The traffic light of a commitment: the one place the rule lives.

The clock starts at the latest progress report, or at the commitment itself while none has
come. Green while less than one reporting period has passed; yellow from one full period
without a report; red from two.
"""

from datetime import datetime, timedelta

from app.commitments.models import Light


def traffic_light(since: datetime, now: datetime, period_days: int) -> Light:
    """The light for a commitment last reported on (or made) at `since`."""
    period = timedelta(days=period_days)
    waited = now - since
    if waited >= 2 * period:
        return Light.red
    if waited >= period:
        return Light.yellow
    return Light.green
