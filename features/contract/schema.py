"""The journey data contract: canonical tables, their columns, keys and relations.

Conventions that every table follows:

- identifiers are strings, so that any source's keys fit (numbers, UUIDs, "C001");
- timestamps are naive and in UTC; dates load as midnight;
- money is a float in the shop's currency; units are in column names where they matter.

The contract is data, not code: loaders, the validator, the simulator, the README and
``journey contract`` all read it from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from features.errors import unknown_name_message

if TYPE_CHECKING:
    import ibis.expr.types as ir

RETURN_REASONS = ("too_small", "too_large", "style", "quality", "other")
FIT_REASONS = ("too_small", "too_large")
FIT_FEEDBACK = ("too_small", "fit", "too_large")
EVENT_TYPES = (
    "page_view",
    "search",
    "add_to_cart",
    "checkout",
    "purchase",
    "login",
    "signup",
    "other",
)
BRA_BANDS = tuple(range(28, 48, 2))  # US/UK bands 28-46
BRA_CUPS = ("AA", "A", "B", "C", "D", "E", "F", "G", "H")  # EU lettering, one letter per step
ALPHA_SIZES = ("XXS", "XS", "S", "M", "L", "XL", "XXL", "3XL")


@dataclass(frozen=True)
class Column:
    """One column of a canonical table.

    ``required`` columns must be present in every input; optional ones are filled with
    null when a source lacks them. ``nullable`` says whether a present column may hold
    nulls. ``allowed``, ``min`` and ``max`` are row checks; failing rows are quarantined.
    """

    name: str
    dtype: str  # an Ibis type name: string, int64, float64, boolean, timestamp
    description: str
    required: bool = True
    nullable: bool = False
    allowed: tuple[str | int, ...] | None = None
    min: float | None = None
    max: float | None = None
    references: str | None = None  # "table.column" this column must exist in


@dataclass(frozen=True)
class Rule:
    """A row check across columns: ``violates(t)`` is true for rows that break it."""

    name: str
    message: str
    columns: tuple[str, ...]
    violates: Callable[[ir.Table], ir.BooleanValue]


@dataclass(frozen=True)
class Table:
    """A canonical table: its grain, columns, primary key and row rules."""

    name: str
    grain: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    time_columns: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = field(default=())

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def foreign_keys(self) -> dict[str, tuple[str, str]]:
        """``{column: (parent_table, parent_column)}``."""
        return {
            c.name: tuple(c.references.split(".", 1))  # type: ignore[misc]
            for c in self.columns
            if c.references
        }

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(unknown_name_message(f"column of {self.name}", name, self.column_names))

    def ibis_schema(self):  # -> ibis.Schema, imported lazily to keep import time low
        import ibis

        return ibis.schema({c.name: c.dtype for c in self.columns})


def _c(name: str, dtype: str, description: str, **kw) -> Column:
    return Column(name=name, dtype=dtype, description=description, **kw)


CUSTOMERS = Table(
    name="customers",
    grain="customer",
    description="Everyone who has an account, whether or not they ever ordered.",
    columns=(
        _c("customer_id", "string", "Customer key."),
        _c("signup_ts", "timestamp", "When the account was created (UTC)."),
        _c(
            "channel",
            "string",
            "Acquisition channel, e.g. organic, paid_search, social.",
            required=False,
            nullable=True,
        ),
        _c("region", "string", "Region or country.", required=False, nullable=True),
        _c("segment", "string", "Any business segment attribute.", required=False, nullable=True),
        _c(
            "birth_year",
            "int64",
            "Year of birth.",
            required=False,
            nullable=True,
            min=1900,
            max=2030,
        ),
        _c(
            "email",
            "string",
            "Contact address; PII, exported only when configured.",
            required=False,
            nullable=True,
        ),
    ),
    primary_key=("customer_id",),
    time_columns=("signup_ts",),
)

EVENTS = Table(
    name="events",
    grain="interaction (a page view, search, cart or checkout step...) within a session",
    description="Web or app behaviour. A session's events are ordered by (ts, seq).",
    columns=(
        _c("session_id", "string", "Session key."),
        _c("seq", "int64", "Position of the event within its session, from 1.", min=1),
        _c("customer_id", "string", "Who.", references="customers.customer_id"),
        _c("ts", "timestamp", "When (UTC)."),
        _c("event_type", "string", "What kind of interaction.", allowed=EVENT_TYPES),
        _c(
            "page",
            "string",
            "Page name or type, e.g. home, product, size_guide, checkout.",
            required=False,
            nullable=True,
        ),
        _c(
            "source",
            "string",
            "Traffic source of the session, e.g. organic, email.",
            required=False,
            nullable=True,
        ),
        _c(
            "device", "string", "web or app.", required=False, nullable=True, allowed=("web", "app")
        ),
        _c(
            "product_id",
            "string",
            "Product viewed or added, when there is one.",
            required=False,
            nullable=True,
        ),
    ),
    primary_key=("session_id", "seq"),
    time_columns=("ts",),
)

ORDERS = Table(
    name="orders",
    grain="order (or refund)",
    description="Orders with their net revenue; refunds carry is_refund and negative revenue.",
    columns=(
        _c("order_id", "string", "Order key."),
        _c("customer_id", "string", "Who ordered.", references="customers.customer_id"),
        _c("ts", "timestamp", "When the order was placed (UTC)."),
        _c("revenue", "float64", "Net revenue after discounts; negative only for refunds."),
        _c("is_refund", "boolean", "A refund or cancellation rather than a sale.", required=False),
        _c("promo_code", "string", "Promo code used, null if none.", required=False, nullable=True),
        _c(
            "channel",
            "string",
            "Sales channel: web, app, store, marketplace...",
            required=False,
            nullable=True,
        ),
    ),
    primary_key=("order_id",),
    time_columns=("ts",),
    rules=(
        Rule(
            "negative_revenue",
            "revenue is negative on an order that is not a refund",
            ("revenue", "is_refund"),
            lambda t: (t.revenue < 0) & ~t.is_refund.fill_null(False),
        ),
    ),
)

ORDER_LINES = Table(
    name="order_lines",
    grain="order line",
    description="What was bought, in which size. Bras carry band and cup.",
    columns=(
        _c("line_id", "string", "Order-line key."),
        _c("order_id", "string", "Order it belongs to.", references="orders.order_id"),
        _c("product_id", "string", "Product (SKU family) key."),
        _c(
            "category",
            "string",
            "Category, e.g. bra, knickers, sleepwear, apparel.",
            required=False,
            nullable=True,
        ),
        _c(
            "style",
            "string",
            "Style or collection within the category.",
            required=False,
            nullable=True,
        ),
        _c("size", "string", "Size label as sold: 34C, M, 10...", required=False, nullable=True),
        _c(
            "band",
            "int64",
            "Bra band (28-46), null for non-bras.",
            required=False,
            nullable=True,
            allowed=BRA_BANDS,
        ),
        _c(
            "cup",
            "string",
            "Bra cup (AA-H, EU lettering), null for non-bras.",
            required=False,
            nullable=True,
            allowed=BRA_CUPS,
        ),
        _c("price", "float64", "Unit price paid.", min=0),
        _c("quantity", "int64", "Units; negative on refund lines."),
        _c(
            "fit_feedback",
            "string",
            "Explicit fit feedback on a kept item, when given.",
            required=False,
            nullable=True,
            allowed=FIT_FEEDBACK,
        ),
    ),
    primary_key=("line_id",),
    rules=(Rule("zero_quantity", "quantity is zero", ("quantity",), lambda t: t.quantity == 0),),
)

RETURNS = Table(
    name="returns",
    grain="returned order line",
    description="Returns with their reason; fit reasons are too_small and too_large.",
    columns=(
        _c("return_id", "string", "Return key."),
        _c("line_id", "string", "The order line returned.", references="order_lines.line_id"),
        _c("ts", "timestamp", "When the return was received (UTC)."),
        _c("reason", "string", "Why.", allowed=RETURN_REASONS),
        _c("quantity", "int64", "Units returned.", required=False, min=1),
    ),
    primary_key=("return_id",),
    time_columns=("ts",),
)

SUBSCRIPTIONS = Table(
    name="subscriptions",
    grain="subscription (a membership period on one plan)",
    description="Memberships; a plan change ends one row and starts the next.",
    columns=(
        _c("subscription_id", "string", "Subscription key."),
        _c("customer_id", "string", "Member.", references="customers.customer_id"),
        _c("plan", "string", "Plan name, e.g. Monthly, Annual."),
        _c("start_ts", "timestamp", "Start (UTC)."),
        _c("end_ts", "timestamp", "End (UTC); null while active.", required=False, nullable=True),
        _c("price", "float64", "Price per billing period.", required=False, nullable=True, min=0),
        _c(
            "period_days",
            "int64",
            "Billing period length in days.",
            required=False,
            nullable=True,
            min=1,
        ),
    ),
    primary_key=("subscription_id",),
    time_columns=("start_ts",),
    rules=(
        Rule(
            "end_before_start",
            "end_ts is before start_ts",
            ("start_ts", "end_ts"),
            lambda t: t.end_ts.notnull() & (t.end_ts < t.start_ts),
        ),
    ),
)

# Parents come before children: validation walks this order to check references.
TABLES: dict[str, Table] = {
    t.name: t for t in (CUSTOMERS, EVENTS, ORDERS, ORDER_LINES, RETURNS, SUBSCRIPTIONS)
}

QUARANTINE_COLUMNS = {
    "load_id": "string",
    "table_name": "string",
    "source": "string",
    "row_number": "int64",
    "column_name": "string",
    "value": "string",
    "reason": "string",
    "record": "string",
}


def get_table(name: str) -> Table:
    """The canonical table called ``name``; unknown names list the valid ones."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(unknown_name_message("table", name, TABLES)) from None
