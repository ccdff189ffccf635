from switchroom.hub.users import UserConnections
from switchroom.protocol.catalog import UserConnection


def test_enabled_count_follows_enable_reconfigure_and_disable() -> None:
    users = UserConnections()
    users.put(UserConnection(user_id="a", connection_id="c"))
    users.put(UserConnection(user_id="b", connection_id="c"))
    users.put(UserConnection(user_id="a", connection_id="c"))  # reconfigured, still enabled
    assert users.enabled_count("c") == 2
    users.put(UserConnection(user_id="a", connection_id="c", status="disabled"))
    assert users.enabled_count("c") == 1 and users.enabled_count("other") == 0
    assert users.get("a", "c") is not None and users.get("a", "c").status == "disabled"  # type: ignore[union-attr]
