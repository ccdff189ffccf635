"""Catalog files: the demo catalog loads; a bad one fails with the file, the path in it and what is wrong."""

from pathlib import Path

import pytest

from switchroom.hub.catalog_file import CatalogError, load_catalog
from switchroom.hub.settings import DEMO_CATALOG
from tests.support.hubproc import bare_env

SAMPLES = {name: f"http://127.0.0.1:1/{name}" for name in ("lights", "messages", "videos", "weather", "developer")}
ENV = {"SWITCHROOM_SERVICE_KEY": "demo-key"}

MINIMAL = """
[services.lamp]
name = "Lamp"
base_url = "http://127.0.0.1:9/"
service_key = { env = "LAMP_KEY" }

[[services.lamp.actions]]
id = "blink"
label = "Blink"
fields = [{ id = "times", label = "Times", type = "number", required = true }]

[connections.blinker]
name = "Blinker"
owner_service = "lamp"

[[connections.blinker.features]]
id = "blink"
name = "Blink"

[[connections.blinker.features.actions]]
id = "fa_blink"
ref = "lamp.blink"
fields.times = { visibility = "developer", value = 3 }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.toml"
    path.write_text(text)
    return path


def problems(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(CatalogError) as exc:
        load_catalog(path, {"LAMP_KEY": "k"} if env is None else env, SAMPLES)
    assert exc.value.path == path and str(path) in str(exc.value)
    return exc.value.problems


def test_the_demo_catalog_loads_with_its_connections() -> None:
    catalog = load_catalog(DEMO_CATALOG, ENV, SAMPLES)
    assert set(catalog.services) == {"lights", "messages", "videos", "weather"}
    assert len(catalog.connections) >= 4
    assert catalog.services["lights"].base_url == SAMPLES["lights"]
    assert catalog.services["lights"].service_key == "demo-key"
    kinds = {kind for c in catalog.connections.values() for f in c.features
             for kind, entries in (("t", f.triggers), ("q", f.queries), ("a", f.actions)) if entries}
    assert kinds == {"t", "q", "a"}
    scripts = {c.id for c in catalog.connections.values() if c.runtime_script}
    assert scripts == {"porch-welcome", "liked-video-texts", "rain-alert"}
    assert catalog.connections["light-log"].webhook_url == SAMPLES["developer"]


def test_a_minimal_catalog_loads(tmp_path: Path) -> None:
    catalog = load_catalog(write(tmp_path, MINIMAL), {"LAMP_KEY": "secret"})
    assert catalog.services["lamp"].service_key == "secret"
    assert catalog.connections["blinker"].features[0].actions[0].fields["times"].value == 3


def test_service_key_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "lamp.key").write_text("from-file\n")
    text = MINIMAL.replace('service_key = { env = "LAMP_KEY" }', 'service_key = { file = "lamp.key" }')
    assert load_catalog(write(tmp_path, text), {}).services["lamp"].service_key == "from-file"


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    (problem,) = problems(tmp_path, MINIMAL + "\n[connections.broken\n")
    assert "not valid TOML" in problem and "line" in problem


def test_unknown_key_and_bad_type_name_their_paths(tmp_path: Path) -> None:
    text = MINIMAL.replace('label = "Times", type = "number"', 'label = "Times", type = "integer"')
    text = text.replace('name = "Blinker"', 'name = "Blinker"\ncolour = "red"')
    found = problems(tmp_path, text)
    assert any(p.startswith("services.lamp.actions[0].fields[0].type:") for p in found)
    assert any(p.startswith("connections.blinker.colour:") for p in found)


def test_references_are_checked(tmp_path: Path) -> None:
    text = (MINIMAL.replace('ref = "lamp.blink"', 'ref = "lamp.explode"')
            .replace('owner_service = "lamp"', 'owner_service = "toaster"'))
    found = problems(tmp_path, text)
    assert "connections.blinker.owner_service: no service 'toaster' in this catalog" in found
    assert "connections.blinker.features[0].actions[0].ref: no action 'lamp.explode' in this catalog" in found


def test_field_config_must_name_a_real_field_and_a_real_option(tmp_path: Path) -> None:
    text = MINIMAL.replace('fields.times = { visibility = "developer", value = 3 }',
                           'fields.times = { visibility = "developer", value = 3 }\n'
                           'fields.speed = { visibility = "user" }')
    assert problems(tmp_path, text) == [
        "connections.blinker.features[0].actions[0].fields.speed: lamp.blink has no field 'speed'"
    ]


def test_required_developer_field_needs_a_value(tmp_path: Path) -> None:
    text = MINIMAL.replace('fields.times = { visibility = "developer", value = 3 }',
                           'fields.times = { visibility = "developer" }')
    assert problems(tmp_path, text) == [
        "connections.blinker.features[0].actions[0].fields.times: a required developer field needs a value"
    ]


def test_missing_secret_and_unknown_sample(tmp_path: Path) -> None:
    text = MINIMAL.replace('base_url = "http://127.0.0.1:9/"', 'base_url = "sample:toaster"')
    found = problems(tmp_path, text, env={})
    assert "services.lamp.service_key: environment variable LAMP_KEY is not set" in found
    assert any(p.startswith("services.lamp.base_url: no sample service 'toaster'") for p in found)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as exc:
        load_catalog(tmp_path / "missing.toml", {})
    assert "cannot read the file" in exc.value.problems[0]


def test_the_hub_refuses_a_bad_catalog_without_a_traceback(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = write(tmp_path, MINIMAL.replace('ref = "lamp.blink"', 'ref = "lamp.explode"'))
    hub = Path(sys.executable).with_name("switchroom-hub")
    result = subprocess.run([str(hub), "serve", "--catalog", str(path), "--port", "0", "--db",
                             str(tmp_path / "h.sqlite")], capture_output=True, text=True, timeout=60,
                            env=bare_env(LAMP_KEY="k", HOME=str(tmp_path)))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert f"{path}: connections.blinker.features[0].actions[0].ref: no action 'lamp.explode'" in result.stderr


def test_configured_values_are_type_checked_and_webhooks_are_urls(tmp_path: Path) -> None:
    text = (MINIMAL.replace('fields.times = { visibility = "developer", value = 3 }',
                            'fields.times = { visibility = "developer", value = "three" }')
            .replace('owner_service = "lamp"', 'owner_service = "lamp"\nwebhook_url = "backend.example.com"'))
    assert problems(tmp_path, text) == [
        "connections.blinker.features[0].actions[0].fields.times: 'times' must be a number",
        "connections.blinker.webhook_url: must start with http://, https:// or sample:",
    ]


def test_a_runtime_script_that_does_not_compile_is_refused_with_its_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "blink.js").write_text('console.log("ok");\nconst times = [1, 2;\n')
    text = MINIMAL.replace('owner_service = "lamp"', 'owner_service = "lamp"\nruntime_script = "blink.js"')
    assert problems(tmp_path, text) == [
        "connections.blinker.runtime_script: blink.js:2:20: SyntaxError: Unexpected token ';'"]
    (tmp_path / "blink.js").write_text('const times = [1, 2];\nawait runAction("lamp.blink", {});\n')
    catalog = load_catalog(tmp_path / "catalog.toml", {"LAMP_KEY": "k"})
    assert catalog.connections["blinker"].runtime_script.startswith("const times")


def test_required_fields_must_be_configured_and_an_operation_used_once_per_feature(tmp_path: Path) -> None:
    text = MINIMAL.replace('fields.times = { visibility = "developer", value = 3 }\n', "") + (
        '\n[[connections.blinker.features.actions]]\nid = "fa_blink_again"\nref = "lamp.blink"\n'
        'fields.times = { visibility = "user" }\n'
    )
    found = problems(tmp_path, text)
    assert "connections.blinker.features[0].actions[0].fields.times: a required field must be configured " \
           "(developer or user)" in found
    assert any("appears more than once" in p and "features[0]" in p for p in found)
