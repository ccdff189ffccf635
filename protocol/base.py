"""The base of the protocol's models."""

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import core_schema

SCHEMA_REF = "#/components/schemas/{name}"
"""How a ``$ref`` names a schema of the hub's OpenAPI document (every schema it has sits there)."""


class ProtocolModel(BaseModel):
    """A model whose validators are built the first time it is used, not when it is imported: the
    dashboard imports many models it never validates with, and building them all cost a tenth of its
    start."""

    model_config = ConfigDict(defer_build=True)


class AnswerModel(ProtocolModel):
    """A body the hub answers with, as its OpenAPI document publishes it (``PublishedJsonSchema``).

    It has exactly these keys: one the model lacks is refused, so a handler that starts sending another key
    fails its tests until the model names it. Every field is sent, null or not, except a field whose default
    is None: that one is left out while it is None (an optional part of the answer, such as a page's
    ``next``). A field that may be null but is always sent has no default."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    @model_serializer(mode="wrap")
    def _leave_out_absent_parts(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        # No return annotation: pydantic would take it for the answer's schema.
        data = handler(self)
        for name, field in type(self).model_fields.items():
            if field.default is None and data.get(name, False) is None:
                del data[name]
        return data


class PublishedJsonSchema(GenerateJsonSchema):
    """JSON Schema as the hub's OpenAPI document publishes it: requests are described for validation (a field
    with a default may be left out), answers for serialization, where a field is required unless its default
    is None (``AnswerModel`` leaves those out while None; every other field is always sent)."""

    def field_is_required(self, field: core_schema.ModelField | core_schema.DataclassField | core_schema.TypedDictField,
                          total: bool) -> bool:
        if self.mode != "serialization" or field["type"] == "typed-dict-field":
            return super().field_is_required(field, total)
        schema = field["schema"]
        return not (schema["type"] == "default" and schema.get("default", ...) is None)
