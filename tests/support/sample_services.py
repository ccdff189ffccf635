"""Sample services run by the test process itself, so they outlive the hubs a test starts and stops."""

from pathlib import Path
import asyncio
import shutil
import threading

import httpx

from switchroom.hub.sample.demo import DEMO_FAULTS
from switchroom.hub.sample.developer import developer_app
from switchroom.hub.sample.faults import Faults
from switchroom.hub.sample.server import BackgroundServer
from switchroom.hub.sample.services import SAMPLE_APPS
from switchroom.hub.settings import DEMO_CATALOG


class SampleServices:
    """Every sample service on its own port, served from a thread with its own event loop; no faults."""

    def __init__(self, service_key: str) -> None:
        self.service_key = service_key
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sample-services", daemon=True)
        self._thread.start()
        apps = {**SAMPLE_APPS, "developer": developer_app}
        self.servers = {name: BackgroundServer(make_app(service_key, Faults(seed=DEMO_FAULTS[name]["seed"])))
                        for name, make_app in apps.items()}
        for server in self.servers.values():
            asyncio.run_coroutine_threadsafe(server.start(), self._loop).result(10)

    def url(self, name: str) -> str:
        return self.servers[name].url

    def post(self, name: str, path: str, body: object) -> httpx.Response:
        """A request to a sample service's own hooks (``/_events/…``, ``/_faults``), with its key."""
        response = httpx.post(self.url(name) + path, json=body, headers={"IFTTT-Service-Key": self.service_key})
        response.raise_for_status()
        return response

    def get(self, name: str, path: str) -> httpx.Response:
        response = httpx.get(self.url(name) + path, headers={"IFTTT-Service-Key": self.service_key})
        response.raise_for_status()
        return response

    def demo_catalog(self, directory: Path, drop_scripts: tuple[str, ...] = (), extra: str = "") -> Path:
        """The demo catalog pointed at these services (scripts alongside), minus the named scripts."""
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copytree(DEMO_CATALOG.parent / "scripts", directory / "scripts", dirs_exist_ok=True)
        text = DEMO_CATALOG.read_text()
        for name in self.servers:
            text = text.replace(f'"sample:{name}"', f'"{self.url(name)}"')
        lines = [line for line in text.splitlines() if not any(f"scripts/{s}" in line for s in drop_scripts)]
        path = directory / "catalog.toml"
        path.write_text("\n".join(lines) + "\n" + extra)
        return path

    def stop(self) -> None:
        for server in self.servers.values():
            asyncio.run_coroutine_threadsafe(server.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
