import pytest

from switchroom.hub.errors import ConnectApiError
from switchroom.hub.resolution import resolve_fields
from switchroom.protocol.catalog import Field, FieldConfig, FieldOption, Operation

OPERATION = Operation(
    id="change_color",
    label="Change colour",
    fields=[
        Field(id="light", label="Light", type="text", required=True),
        Field(id="color", label="Colour", type="select", required=True,
              options=[FieldOption(label=c, value=c) for c in ("red", "blue")]),
        Field(id="brightness", label="Brightness", type="number"),
    ],
)
CONFIGURED = {
    "light": FieldConfig(visibility="developer", value="porch"),
    "color": FieldConfig(visibility="user", value="red"),
}


def pointers(exc: pytest.ExceptionInfo[ConnectApiError]) -> list[str]:
    return [d.parameter for d in exc.value.body.details]


def test_configured_value_when_nothing_else() -> None:
    assert resolve_fields(OPERATION, CONFIGURED, {}, None) == {"light": "porch", "color": "red"}


def test_user_value_beats_configured_default() -> None:
    assert resolve_fields(OPERATION, CONFIGURED, {"color": "blue"}, None)["color"] == "blue"


def test_user_value_cannot_change_a_developer_field() -> None:
    assert resolve_fields(OPERATION, CONFIGURED, {"light": "attic"}, None)["light"] == "porch"


def test_override_beats_user_value_and_may_target_any_field() -> None:
    resolved = resolve_fields(OPERATION, CONFIGURED, {"color": "blue"}, {"color": "red", "light": "attic",
                                                                          "brightness": 40})
    assert resolved == {"light": "attic", "color": "red", "brightness": 40}


def test_every_bad_field_is_reported_with_a_pointer() -> None:
    with pytest.raises(ConnectApiError) as exc:
        resolve_fields(OPERATION, {}, {}, {"color": "green", "brightness": "high", "volume": 3})
    assert exc.value.status == 422 and exc.value.body.code == "invalid_parameters"
    assert sorted(pointers(exc)) == ["/fields/brightness", "/fields/color", "/fields/light", "/fields/volume"]
