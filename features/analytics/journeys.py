"""Journeys: each customer's page views, session after session, as one ordered path.

A journey is a lazy Ibis table with one row per step:

======================  =========================================================
``customer_id``         whose journey
``step``                0-based position in the journey
``page``                the page at that step
``session_id``          the session the step comes from
``journey_length``      number of steps in the customer's journey
======================  =========================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import ibis

from features.errors import EmptyResultError, UnknownValueError, unknown_name_message

if TYPE_CHECKING:
    import ibis.expr.types as ir

SESSION_RULES = ("all", "until_target")
PLAN_RULES = ("first", "latest")
JOURNEY_COLUMNS = ("customer_id", "step", "page", "session_id", "journey_length")


def _require_nonempty(expr: ir.Table, what: str) -> None:
    if int(expr.count().to_pandas()) == 0:
        raise EmptyResultError(what)


def list_pages(journeys_or_events: ir.Table) -> list[str]:
    """The distinct non-null pages of a journeys or events table, sorted."""
    t = journeys_or_events
    pages = t.filter(t.page.notnull()).select("page").distinct()
    return sorted(pages.to_pandas().page.tolist())


def check_pages(journeys_or_events: ir.Table, pages: list[str] | tuple[str, ...]) -> None:
    """Raise :class:`UnknownValueError` naming the valid pages if any of ``pages`` is absent."""
    valid = list_pages(journeys_or_events)
    for page in pages:
        if page not in valid:
            raise UnknownValueError(unknown_name_message("page", page, valid))


def build_journeys(
    events: ir.Table,
    *,
    session_rule: Literal["all", "until_target"] = "all",
    target_page: str | None = None,
) -> ir.Table:
    """One journey per customer: their page events, session after session.

    Only events with a page take part. Sessions are ordered by their first event's ``ts``,
    ties by ``session_id``; events within a session by ``(ts, seq)``. Consecutive repeats
    of a page collapse into one step, across session boundaries too.

    Parameters
    ----------
    events
        The canonical ``events`` table (not changed).
    session_rule
        ``"all"``: every session. ``"until_target"``: sessions up to and including the
        first one that contains ``target_page``; a customer who never reaches it keeps
        every session (a journey that did not convert).
    target_page
        Required for ``"until_target"``; must be a page present in ``events``.

    Returns
    -------
    A lazy table with :data:`JOURNEY_COLUMNS`.

    Raises
    ------
    EmptyResultError
        When no event has a page.
    UnknownValueError
        For an unknown rule, or a target page no event has.
    """
    if session_rule not in SESSION_RULES:
        raise UnknownValueError(unknown_name_message("session rule", session_rule, SESSION_RULES))
    pages = events.filter(events.page.notnull()).select(
        "customer_id", "session_id", "seq", "ts", "page"
    )
    _require_nonempty(pages, "no event has a page, so there are no journeys")
    pages = pages.mutate(_session_ts=pages.ts.min().over(group_by=pages.session_id))
    if session_rule == "until_target":
        if target_page is None:
            raise UnknownValueError("session_rule 'until_target' needs a target_page")
        check_pages(pages, [target_page])
        session = ibis.window(group_by=pages.session_id)
        pages = pages.mutate(
            _hit=(pages.page == target_page).any().over(session),
            _rank=ibis.dense_rank().over(
                group_by=pages.customer_id, order_by=[pages._session_ts, pages.session_id]
            ),
        )
        first_hit = ibis.cases((pages._hit, pages._rank), else_=ibis.null("int64")).min()
        pages = pages.mutate(_first_hit=first_hit.over(group_by=pages.customer_id))
        pages = pages.filter(pages._first_hit.isnull() | (pages._rank <= pages._first_hit))
    order = [pages._session_ts, pages.session_id, pages.ts, pages.seq]
    pages = pages.mutate(_prev=pages.page.lag().over(group_by=pages.customer_id, order_by=order))
    kept = pages.filter(pages._prev.isnull() | (pages._prev != pages.page))
    order = [kept._session_ts, kept.session_id, kept.ts, kept.seq]
    return kept.select(
        customer_id=kept.customer_id,
        step=ibis.row_number().over(group_by=kept.customer_id, order_by=order).cast("int64"),
        page=kept.page,
        session_id=kept.session_id,
        journey_length=kept.count().over(group_by=kept.customer_id).cast("int64"),
    )


def assign_plans(
    subscriptions: ir.Table,
    *,
    rule: Literal["first", "latest"] = "first",
) -> ir.Table:
    """Each subscriber's plan: their first or latest subscription's, by ``start_ts``.

    Ties on ``start_ts`` break by ``subscription_id``. Returns a lazy table of
    ``customer_id, plan`` with one row per customer who has a subscription.
    """
    if rule not in PLAN_RULES:
        raise UnknownValueError(unknown_name_message("plan rule", rule, PLAN_RULES))
    s = subscriptions
    _require_nonempty(s, "no subscriptions, so no customer has a plan")
    keys = [s.start_ts, s.subscription_id]
    if rule == "latest":
        keys = [k.desc() for k in keys]
    ranked = s.mutate(_k=ibis.row_number().over(group_by=s.customer_id, order_by=keys))
    return ranked.filter(ranked._k == 0).select("customer_id", "plan")
