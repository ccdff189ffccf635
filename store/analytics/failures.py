"""Failures grouped into issues: identical failures as one row with first seen, last seen and count.

Identical means the same kind, connection, feature, op, direction and answer: the status (or no
answer) with its error code for an api_call, the outcome (error, timeout, oom) for a script run. A
storm of 10,000 503s is one row. One failing call is one row too: a Connect API call answered 502 or
504 because the service failed made two records, the inbound answer and the hub's outbound call; the
outbound groups of the same connection, feature and operation are folded into the inbound one as its
causes (``502←503``). Read from the indexer's aggregates (``store.analytics.aggregates``), so the
cost follows the number of distinct failures in the window, not the number of records.
"""

from dataclasses import dataclass, replace

from switchroom.protocol.kinds import API_CALL, SCRIPT_RUN
from switchroom.store.analytics.aggregates import WindowSums, window_sums
from switchroom.store.analytics.derived import attach
from switchroom.store.analytics.derived_counts import KEY_COLUMNS
from switchroom.store.eventlog import EventLog
from switchroom.store.filters import RecordFilter, parse_status
from switchroom.store.status_codes import code_meaning, is_failure, outcome_meaning, status_key


_CAUSED_BY_THE_SERVICE = ("service_error", "service_timeout")
"""The error codes of a Connect API call that failed because the hub's call to the service did."""
_MADE_FOR_A_CALLER = ("action", "query")
"""The outbound calls made for an inbound one (a trigger test's poll is a poll among the others)."""


@dataclass(frozen=True)
class Cause:
    """The hub's outbound calls behind an inbound group: what the service answered, and how often."""

    code: str
    count: int


@dataclass(frozen=True)
class FailureGroup:
    kind: str
    connection_id: str
    feature_id: str
    op_id: str
    op: str
    """What the calls were: ``action``, ``query``, ``trigger`` (a poll), ``webhook``…; '' for script runs."""
    direction: str
    """'' for script runs."""
    code: str
    """The status key (``503``, ``none``) of an api_call; the outcome (``timeout``) of a script run."""
    error_code: str
    """The api_call's error code ('' when it has none); '' for script runs."""
    count: int
    first_seen: str
    last_seen: str
    last_seq: int
    """The latest failure of the group, to open its detail."""
    causes: tuple[Cause, ...] = ()
    """For inbound calls answered 502/504: the outbound calls to the service they made, by answer."""

    def record_filter(self) -> RecordFilter:
        """The filter that shows this group's records (an api_call group's by its status alone: the filter
        language takes statuses and error codes as alternatives, and a status nearly always comes with
        the one error code)."""
        answer = {"outcomes": (self.code,)} if self.kind == SCRIPT_RUN else {"statuses": (parse_status(self.code),)}
        return RecordFilter(kinds=(self.kind,), connection_id=self.connection_id or None,
                            feature_id=self.feature_id or None, op_id=self.op_id or None,
                            direction=self.direction or None, **answer)

    @property
    def side(self) -> str:
        """Which way the failing records went: ``in`` (Connect API calls the hub answered), ``in←out``
        (such calls with the hub's failed calls to the service behind them), ``out`` (the hub's action and
        query calls to a service with no inbound call failed by them), ``poll`` (the hub's trigger polls),
        ``hook`` (webhooks to the developer's backend), or ``script`` (runtime-script runs)."""
        if self.kind == SCRIPT_RUN:
            return "script"
        if self.causes:
            return "in←out"
        if self.direction == "outbound" and self.op == "trigger":
            return "poll"
        return {"inbound": "in", "outbound": "out", "webhook": "hook"}.get(self.direction, self.direction)

    @property
    def answer(self) -> str:
        """The answer as a table shows it: ``timeout``, ``503 service_error``, or ``502←503,500`` for
        inbound calls with the service's answers behind them."""
        if self.kind == SCRIPT_RUN:
            return self.code
        if self.causes:
            return f"{self.code}←{','.join(cause.code for cause in self.causes)}"
        return f"{self.code} {self.error_code}".strip()

    @property
    def meaning(self) -> str:
        if self.kind == SCRIPT_RUN:
            return outcome_meaning(self.code)
        if self.causes:
            said = ", ".join(f"{cause.code} ×{cause.count:,} ({code_meaning(cause.code, 'outbound')})"
                             for cause in self.causes)
            return f"{self.error_code}: the service answered {said}"
        return code_meaning(self.code, self.direction)


def failure_groups(log: EventLog, since_ts: str | None = None, connection_id: str | None = None,
                   feature_id: str | None = None) -> list[FailureGroup]:
    """The failures at or after ``since_ts`` (of one connection or feature when given), grouped, the
    most recently seen first."""
    where = {**({"connection_id": connection_id} if connection_id is not None else {}),
             **({"feature_id": feature_id} if feature_id is not None else {})}
    return groups_of(window_sums(attach(log), since_ts, KEY_COLUMNS, where, latency=False))


def groups_of(sums: WindowSums) -> list[FailureGroup]:
    """The failure groups among sums grouped by every one of ``KEY_COLUMNS``, newest first."""
    groups = []
    for (kind, conn_id, feature, op_id, direction, status, skipped, outcome, op), tally in sums.groups.items():
        if not is_failure(kind, status, skipped, outcome):
            continue
        if kind == SCRIPT_RUN:
            code, error_code = outcome, ""
        else:
            code, error_code = status_key(status, bool(skipped)), outcome
        groups.append(FailureGroup(kind, conn_id, feature, op_id, op, direction, code, error_code, tally.count,
                                   tally.first_ts, tally.last_ts, tally.last_seq))
    groups.sort(key=lambda group: group.last_seen, reverse=True)
    return _with_causes(groups)


def _with_causes(groups: list[FailureGroup]) -> list[FailureGroup]:
    """The groups with each inbound 502/504 group's outbound halves (action and query calls of the same
    connection, feature and operation, failed with the same error code) folded into it (order kept)."""
    def where(group: FailureGroup) -> tuple[str, ...]:
        return group.connection_id, group.feature_id, group.op_id, group.error_code

    halves: dict[tuple[str, ...], list[FailureGroup]] = {}
    for group in groups:
        if (group.kind == API_CALL and group.direction == "outbound" and group.op in _MADE_FOR_A_CALLER
                and group.error_code in _CAUSED_BY_THE_SERVICE):
            halves.setdefault(where(group), []).append(group)
    merged: list[FailureGroup] = []
    folded: set[int] = set()
    for group in groups:
        found = halves.get(where(group), []) if group.direction == "inbound" and group.kind == API_CALL else []
        if found:
            found.sort(key=lambda half: half.count, reverse=True)
            group = replace(group, causes=tuple(Cause(half.code, half.count) for half in found))
            folded.update(id(half) for half in found)
        merged.append(group)
    return [group for group in merged if id(group) not in folded]
