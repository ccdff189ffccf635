"""The demo catalog: connections over the sample services, and the users who enabled them."""

import random

from hub.sample.lights import CHANGE_COLOR, COLORS
from protocol.catalog import (
    Connection,
    Feature,
    FeatureOperation,
    FieldConfig,
    Service,
    UserConnection,
    UserFeature,
)

DEMO_USERS = 40


def demo_services(lights_url: str, service_key: str) -> list[Service]:
    return [Service(id="lights", name="Lights", base_url=lights_url, service_key=service_key, actions=[CHANGE_COLOR])]


def demo_connections() -> list[Connection]:
    return [
        Connection(
            id="evening-glow",
            name="Evening glow",
            description="Sets a light to the colour you choose when your evening routine starts.",
            owner_service="lights",
            features=[
                Feature(
                    id="glow",
                    name="Glow at dusk",
                    actions=[
                        FeatureOperation(
                            id="fa_glow_color",
                            ref="lights.change_color",
                            fields={
                                "light": FieldConfig(visibility="developer", value="living_room"),
                                "color": FieldConfig(visibility="user", value="warm_white"),
                            },
                        )
                    ],
                )
            ],
        )
    ]


def demo_user_connections(count: int = DEMO_USERS, seed: int = 11) -> list[UserConnection]:
    """Users who enabled Evening glow, most with a colour of their own, some with the default."""
    rng = random.Random(seed)
    users = []
    for n in range(1, count + 1):
        user_id = f"user-{n:03d}"
        values = {"color": rng.choice(COLORS)} if rng.random() < 0.7 else {}
        users.append(
            UserConnection(
                user_id=user_id,
                connection_id="evening-glow",
                user_features=[UserFeature(id=f"uf-{n:03d}-glow", feature_id="glow",
                                           op_fields={"fa_glow_color": values})],
            )
        )
    return users

