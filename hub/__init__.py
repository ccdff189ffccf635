"""The Switchroom platform: catalog, Connect API, service client, event log and streams."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("switchroom")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
