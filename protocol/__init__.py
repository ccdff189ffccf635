"""The wire contract between hub and dashboard: the only package both sides import."""

from protocol.catalog import Connection, Feature, Service, UserConnection
from protocol.codec import dumps, loads
from protocol.errors import ErrorBody, ErrorDetail
from protocol.frames import (
    PROTOCOL_VERSION,
    BatchFrame,
    ErrorFrame,
    HeartbeatFrame,
    HelloFrame,
    ServerFrame,
    SubscribeFrame,
    parse_server_frame,
)
from protocol.records import ApiCall, Direction, ScriptRun, ScriptRunCall, Source, TriggerEvent, api_call_record

__all__ = [
    "PROTOCOL_VERSION",
    "ApiCall",
    "Connection",
    "Feature",
    "Service",
    "UserConnection",
    "BatchFrame",
    "Direction",
    "ErrorBody",
    "ErrorDetail",
    "ErrorFrame",
    "HeartbeatFrame",
    "HelloFrame",
    "ScriptRun",
    "ScriptRunCall",
    "ServerFrame",
    "Source",
    "SubscribeFrame",
    "api_call_record",
    "TriggerEvent",
    "dumps",
    "loads",
    "parse_server_frame",
]
