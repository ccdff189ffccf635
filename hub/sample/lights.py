"""The ``lights`` sample service: smart lights that turn on and change colour (Service API, DESIGN §4)."""

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any
import random

from starlette.applications import Starlette

from switchroom.hub.sample.faults import Faults
from switchroom.hub.sample.feeds import TriggerFeed
from switchroom.hub.sample.service_api import Action, Query, Trigger, no_fields, required_choice, service_app
from switchroom.protocol.catalog import Field, FieldOption, Operation

COLORS = ["red", "green", "blue", "warm_white", "purple"]
LIGHTS = ["living_room", "kitchen", "bedroom", "porch"]
LIGHT_ON_INGREDIENTS = ("light", "color", "turned_on_at")


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


# Kept for code that still builds its catalog in Python; the demo catalog lives in demo_catalog.toml.
CHANGE_COLOR = Operation(
    id="change_color",
    label="Change light colour",
    fields=[
        Field(id="light", label="Which light", type="select", required=True,
              options=[FieldOption(label=_label(name), value=name) for name in LIGHTS]),
        Field(id="color", label="Colour", type="select", required=True,
              options=[FieldOption(label=_label(name), value=name) for name in COLORS]),
    ],
)


@dataclass
class _Light:
    color: str
    on: bool


def lights_app(service_key: str, faults: Faults, seed: int = 1) -> Starlette:
    """Trigger ``light_on``, query ``list_lights``, action ``change_color``; lights start in seeded states."""
    rng = random.Random(seed)
    lights = {name: _Light(color=rng.choice(COLORS), on=rng.random() < 0.5) for name in LIGHTS}

    def change_color(fields: dict[str, Any]) -> str:
        lights[fields["light"]].color = fields["color"]
        return fields["light"]

    def list_lights(fields: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"id": name, "name": _label(name), **asdict(light)} for name, light in lights.items()]

    return service_app(
        "Lights", service_key, faults,
        actions=[Action("change_color", _change_color_fields, change_color)],
        queries=[Query("list_lights", no_fields, list_lights)],
        triggers=[Trigger("light_on", _light_on_fields,
                          TriggerFeed(LIGHT_ON_INGREDIENTS, _light_on_item, seed, spacing=timedelta(minutes=45)))],
    )


def _change_color_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {"light": required_choice(fields, "light", LIGHTS), "color": required_choice(fields, "color", COLORS)}


def _light_on_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {"light": required_choice(fields, "light", LIGHTS)}


def _light_on_item(rng: random.Random, fields: Mapping[str, Any], at: datetime) -> dict[str, Any]:
    return {"light": fields["light"], "color": rng.choice(COLORS), "turned_on_at": at.isoformat(timespec="seconds")}
