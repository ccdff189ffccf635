from switchroom.hub.sample.faults import Faults


def test_outage_windows_repeat() -> None:
    faults = Faults(outage_every_s=100, outage_for_s=20)
    assert faults.in_outage(now=1_000_005) and faults.in_outage(now=1_000_019.9)
    assert not faults.in_outage(now=1_000_020) and not faults.in_outage(now=1_000_099)
    assert faults.in_outage(now=1_000_100)


def test_no_windows_unless_both_are_set() -> None:
    assert not Faults(outage_every_s=100).in_outage(now=5)
    assert Faults(outage=True).in_outage(now=50)
