"""The sample services by name: what ``--demo`` starts, each on its own port."""

from collections.abc import Callable

from starlette.applications import Starlette

from switchroom.hub.sample.faults import Faults
from switchroom.hub.sample.lights import lights_app
from switchroom.hub.sample.messages import messages_app
from switchroom.hub.sample.videos import videos_app
from switchroom.hub.sample.weather import weather_app

SAMPLE_APPS: dict[str, Callable[[str, Faults], Starlette]] = {
    "lights": lights_app,
    "messages": messages_app,
    "videos": videos_app,
    "weather": weather_app,
}
