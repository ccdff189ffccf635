"""Reading a catalog file (TOML) into the hub's ``Catalog``, with errors a person can act on.

Every problem names the file, the path inside it (``connections.evening-glow.features[0]...``) and
what is wrong; all problems are reported at once, and never as a traceback. The format is documented
in ``docs/catalog.md``.
"""

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import asyncio
import re
import tomllib

from pydantic import BaseModel, ConfigDict, Field as PydField, ValidationError, model_validator

from switchroom.hub.catalog import PLURALS, Catalog, feature_entries
from switchroom.hub.resolution import value_problem
from switchroom.hub.scripts import check_script
from switchroom.protocol.catalog import (
    Connection, ConnectionEntry, FeatureOperation, Operation, OperationKind, Service,
)

SLUG = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
SAMPLE_PREFIX = "sample:"


class CatalogError(Exception):
    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(f"{path}: {p}" for p in problems))


class SecretRef(BaseModel):
    """Where a secret comes from: an environment variable, a file, or (for tests) the value itself."""

    model_config = ConfigDict(extra="forbid")
    env: str | None = None
    file: str | None = None
    value: str | None = PydField(default=None, repr=False)

    @model_validator(mode="after")
    def _exactly_one(self) -> "SecretRef":
        if sum(x is not None for x in (self.env, self.file, self.value)) != 1:
            raise ValueError("give exactly one of env, file or value")
        return self


class ServiceEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    base_url: str
    service_key: SecretRef
    connect_timeout: float = PydField(default=2.0, gt=0)
    read_timeout: float = PydField(default=5.0, gt=0)
    triggers: list[Operation] = PydField(default_factory=list)
    queries: list[Operation] = PydField(default_factory=list)
    actions: list[Operation] = PydField(default_factory=list)


class CatalogFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    services: dict[str, ServiceEntry] = PydField(default_factory=dict)
    connections: dict[str, ConnectionEntry] = PydField(default_factory=dict)


def load_catalog(path: Path, env: Mapping[str, str], sample_urls: Mapping[str, str] | None = None) -> Catalog:
    """Load and check a catalog file. ``sample_urls`` resolves ``base_url = "sample:NAME"``."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogError(path, [f"cannot read the file: {exc.strerror}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(path, [f"not valid TOML: {exc}"]) from None
    except UnicodeDecodeError:
        raise CatalogError(path, ["not UTF-8 text"]) from None
    try:
        parsed = CatalogFile.model_validate(raw)
    except ValidationError as exc:
        raise CatalogError(path, [f"{_location(e['loc'])}: {e['msg']}" for e in exc.errors()]) from None
    return _Builder(path, env, sample_urls or {}).build(parsed)


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class _Builder:
    """Turns a parsed file into protocol objects, collecting every problem on the way."""

    def __init__(self, path: Path, env: Mapping[str, str], sample_urls: Mapping[str, str]) -> None:
        self.path, self.env, self.sample_urls = path, env, sample_urls
        self.problems: list[str] = []

    def build(self, parsed: CatalogFile) -> Catalog:
        services = [self._service(sid, entry) for sid, entry in parsed.services.items()]
        catalog = Catalog([s for s in services if s is not None], [])
        connections = [self._connection(catalog, cid, entry) for cid, entry in parsed.connections.items()]
        if self.problems:
            raise CatalogError(self.path, self.problems)
        return Catalog(list(catalog.services.values()), [c for c in connections if c is not None])

    def _problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def _service(self, service_id: str, entry: ServiceEntry) -> Service | None:
        where = f"services.{service_id}"
        self._check_slug(where, service_id)
        for kind, ops in (("triggers", entry.triggers), ("queries", entry.queries), ("actions", entry.actions)):
            self._check_unique(f"{where}.{kind}", [op.id for op in ops])
            for n, op in enumerate(ops):
                self._check_slug(f"{where}.{kind}[{n}].id", op.id)
                self._check_unique(f"{where}.{kind}[{n}].fields", [f.id for f in op.fields])
                for m, field in enumerate(op.fields):
                    if field.type in ("select", "checkbox_multi") and not field.options:
                        self._problem(f"{where}.{kind}[{n}].fields[{m}]", f"a {field.type} field needs options")
        key = self._secret(f"{where}.service_key", entry.service_key)
        base_url = self._base_url(f"{where}.base_url", entry.base_url)
        if key is None or base_url is None:
            return None
        return Service(
            id=service_id, name=entry.name, base_url=base_url, service_key=key,
            connect_timeout=entry.connect_timeout, read_timeout=entry.read_timeout,
            triggers=entry.triggers, queries=entry.queries, actions=entry.actions,
        )

    def _connection(self, catalog: Catalog, connection_id: str, entry: ConnectionEntry) -> Connection | None:
        where = f"connections.{connection_id}"
        self._check_slug(where, connection_id)
        if entry.owner_service not in catalog.services:
            self._problem(f"{where}.owner_service", f"no service '{entry.owner_service}' in this catalog")
        self._check_unique(f"{where}.features", [f.id for f in entry.features])
        op_ids: list[str] = []
        for n, feature in enumerate(entry.features):
            counters: dict[str, int] = {}
            refs = [f"{kind}:{op_entry.ref}" for kind, op_entry in feature_entries(feature)]
            self._check_unique(f"{where}.features[{n}] (operations used)", refs)
            for kind, op_entry in feature_entries(feature):
                plural = PLURALS[kind]
                m = counters[plural] = counters.get(plural, -1) + 1
                op_ids.append(op_entry.id)
                self._feature_op(catalog, f"{where}.features[{n}].{plural}[{m}]", kind, op_entry)
        self._check_unique(f"{where}.features (trigger, query and action ids)", op_ids)
        script = self._script(f"{where}.runtime_script", entry.runtime_script)
        webhook_url = None if entry.webhook_url is None else self._base_url(f"{where}.webhook_url", entry.webhook_url)
        return Connection(
            id=connection_id, name=entry.name, description=entry.description, owner_service=entry.owner_service,
            features=entry.features, configuration=entry.configuration, runtime_script=script,
            webhook_url=webhook_url,
        )

    def _feature_op(self, catalog: Catalog, where: str, kind: OperationKind, entry: FeatureOperation) -> None:
        found = catalog.operation(kind, entry.ref)
        if found is None:
            self._problem(f"{where}.ref", f"no {kind} '{entry.ref}' in this catalog")
            return
        _, operation = found
        for field_id, config in entry.fields.items():
            field = operation.field(field_id)
            if field is None:
                self._problem(f"{where}.fields.{field_id}", f"{entry.ref} has no field '{field_id}'")
            elif config.value is not None and (message := value_problem(field, config.value)) is not None:
                self._problem(f"{where}.fields.{field_id}", message)
        for field in operation.fields:
            config = entry.fields.get(field.id)
            if field.required and config is None:
                self._problem(f"{where}.fields.{field.id}", "a required field must be configured (developer or user)")
            elif field.required and config is not None and config.visibility == "developer" and config.value is None:
                self._problem(f"{where}.fields.{field.id}", "a required developer field needs a value")

    def _secret(self, where: str, ref: SecretRef) -> str | None:
        if ref.value is not None:
            return ref.value
        if ref.env is not None:
            value = self.env.get(ref.env)
            if not value:
                self._problem(where, f"environment variable {ref.env} is not set")
            return value or None
        assert ref.file is not None
        try:
            return (self.path.parent / ref.file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            self._problem(where, f"cannot read {ref.file}: {exc.strerror}")
            return None

    def _base_url(self, where: str, base_url: str) -> str | None:
        if base_url.startswith(SAMPLE_PREFIX):
            name = base_url.removeprefix(SAMPLE_PREFIX)
            if name not in self.sample_urls:
                self._problem(where, f"no sample service '{name}' is running (sample: URLs need --demo)")
                return None
            return self.sample_urls[name]
        if not base_url.startswith(("http://", "https://")):
            self._problem(where, "must start with http://, https:// or sample:")
            return None
        return base_url

    def _script(self, where: str, script_path: str | None) -> str | None:
        """The script's source, refused unless it compiles (the problem gives its line and column)."""
        if script_path is None:
            return None
        try:
            source = (self.path.parent / script_path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self._problem(where, f"cannot read {script_path}: {getattr(exc, 'strerror', None) or exc}")
            return None
        problem = compile_problem(source)
        if problem is not None:
            message, line, column = problem
            self._problem(where, f"{script_path}:{line}:{column}: {message}")
            return None
        return source

    def _check_slug(self, where: str, value: str) -> None:
        if not SLUG.match(value):
            self._problem(where, f"'{value}' is not a slug (lower-case letters, digits, '-' and '_')")

    def _check_unique(self, where: str, ids: list[str]) -> None:
        seen: set[str] = set()
        for value in ids:
            if value in seen:
                self._problem(where, f"'{value}' appears more than once")
            seen.add(value)


def compile_problem(source: str) -> tuple[str, int | None, int | None] | None:
    """``check_script`` for synchronous callers: run on a thread of its own with its own event loop, so it
    works whether or not the caller is inside one."""
    with ThreadPoolExecutor(1, thread_name_prefix="script-check") as thread:
        return thread.submit(asyncio.run, check_script(source)).result()
