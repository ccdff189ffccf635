"""The ``weather`` sample service: forecasts and a rain warning (Service API, DESIGN §4)."""

from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any
import random

from starlette.applications import Starlette

from switchroom.hub.sample.faults import Faults
from switchroom.hub.sample.feeds import TriggerFeed
from switchroom.hub.sample.service_api import Query, Trigger, required_text, service_app

RAIN_TOMORROW_INGREDIENTS = ("location", "rain_chance", "date")
FORECAST_DAYS = 7


def weather_app(service_key: str, faults: Faults, seed: int = 4) -> Starlette:
    """Query ``forecast`` (from today, UTC), trigger ``rain_tomorrow``; the same day and place always
    get the same weather."""

    def forecast(fields: dict[str, Any]) -> list[dict[str, Any]]:
        today = datetime.now(timezone.utc).date()
        return [_day(seed, fields["location"], today + timedelta(days=n)) for n in range(FORECAST_DAYS)]

    return service_app(
        "Weather", service_key, faults,
        queries=[Query("forecast", _location_fields, forecast)],
        triggers=[Trigger("rain_tomorrow", _location_fields,
                          TriggerFeed(RAIN_TOMORROW_INGREDIENTS, _rain_tomorrow, seed, spacing=timedelta(days=1)))],
    )


def _location_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {"location": required_text(fields, "location", max_length=100)}


def _day(seed: int, location: str, day: date) -> dict[str, Any]:
    place = " ".join(location.casefold().split())
    climate = random.Random(f"{seed}:{place}").randint(-6, 18)  # how warm the place runs
    rng = random.Random(f"{seed}:{place}:{day.isoformat()}")
    high = climate + rng.randint(2, 14)
    rain = rng.randint(0, 100)
    return {"date": day.isoformat(), "summary": _summary(rain, high), "high_c": high,
            "low_c": high - rng.randint(4, 11), "rain_chance": rain}


def _summary(rain_chance: int, high_c: int) -> str:
    if rain_chance >= 70:
        return "Snow" if high_c <= 1 else "Rain"
    if rain_chance >= 40:
        return "Showers"
    return "Cloudy" if rain_chance >= 20 else "Sunny"


def _rain_tomorrow(rng: random.Random, fields: Mapping[str, Any], at: datetime) -> dict[str, Any]:
    return {"location": fields["location"], "rain_chance": rng.randint(60, 95),
            "date": (at.date() + timedelta(days=1)).isoformat()}
