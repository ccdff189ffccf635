"""``POST /v1/ops/catalog/reload`` (operator token): read the catalog file again and serve it
(``hub.catalog_reload``). 200 with what changed; 422 with the file's problems, one detail each (``parameter``
the file, ``message`` the problem, as start-up prints them), the catalog unchanged; 409 when other hubs on
the database serve it."""

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from switchroom.hub.auth import OperatorTokens
from switchroom.hub.catalog_file import CatalogError
from switchroom.hub.catalog_reload import CatalogReload
from switchroom.hub.errors import ConnectApiError, field_error
from switchroom.hub.peers import CatalogMismatch

RELOAD_PATH = "/v1/ops/catalog/reload"


@dataclass
class CatalogReloadApi:
    catalog_reload: CatalogReload
    tokens: OperatorTokens

    def routes(self) -> list[Route]:
        return [Route(RELOAD_PATH, self.reload, methods=["POST"])]

    async def reload(self, request: Request) -> JSONResponse:
        try:
            actor = self.tokens.required(request.headers.get("authorization"))
            try:
                changes = await self.catalog_reload.reload(f"{RELOAD_PATH} by {actor}")
            except CatalogError as exc:
                raise ConnectApiError(
                    "invalid_parameters",
                    f"{exc.path} has {len(exc.problems)} problem{'s' if len(exc.problems) > 1 else ''}; the hub "
                    "goes on serving the catalog it had",
                    [field_error(str(exc.path), problem) for problem in exc.problems]) from None
            except CatalogMismatch as exc:
                raise ConnectApiError("conflict", f"Not reloaded: {exc}") from None
        except ConnectApiError as exc:
            return JSONResponse(exc.body.model_dump(), status_code=exc.status)
        return JSONResponse(changes.model_dump())
