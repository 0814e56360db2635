"""Small warehouses with hostile names, and a check that a page loads nothing from outside."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

PAGE = '<script>alert("page")</script>'
PLAN = '<b>Gold & "co"</b>'
CHANNEL = "<img src=x onerror=alert(1)>"


def _assert_self_contained(html: str) -> None:
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "data:", html)
    assert not re.search(r"(?i)(https?:|ftp:|//[a-z0-9])", text), "external URL"
    assert not re.search(r"(?i)<(script|link|iframe|object|embed)\b", text)
    assert not re.search(r"(?i)(@import|url\()", text)
    assert all(src.startswith("data:") for src in re.findall(r'src="([^"]*)"', text))
    assert "Content-Security-Policy" in text


@pytest.fixture
def assert_self_contained():
    """Check a page: no external URL, script, stylesheet link or frame; src only data URIs."""
    return _assert_self_contained


@pytest.fixture
def hostile() -> SimpleNamespace:
    """The page, plan and channel names the report fixtures use."""
    return SimpleNamespace(page=PAGE, plan=PLAN, channel=CHANNEL)


@pytest.fixture
def journey_tables(page_events, canonical):
    """a: Home, PAGE, Checkout (Gold); b: Home, Pricing (no plan); c: PAGE, Home, Pricing, Checkout (Gold)."""
    events = page_events(
        {
            "a": [["Home", PAGE], [PAGE, "Checkout"]],
            "b": [["Home", "Pricing"]],
            "c": [[PAGE, "Home", "Pricing", "Checkout"]],
        }
    )
    subs = canonical(
        "subscriptions",
        [
            {"subscription_id": c, "customer_id": c, "plan": PLAN, "start_ts": "2024-01-01"}
            for c in ("a", "c")
        ],
    )
    return {"events": events, "subscriptions": subs}


@pytest.fixture
def kpi_tables(canonical):
    """c1 (CHANNEL, EU): 01-03 100 promo, 01-20 50; c2 (email, no region): 02-01 30 promo."""
    customers = canonical(
        "customers",
        [
            {"customer_id": "c1", "signup_ts": "2024-01-01", "channel": CHANNEL, "region": "EU"},
            {"customer_id": "c2", "signup_ts": "2024-01-01", "channel": "email"},
        ],
    )
    orders = canonical(
        "orders",
        [
            {
                "order_id": "1",
                "customer_id": "c1",
                "ts": "2024-01-03",
                "revenue": 100.0,
                "is_refund": False,
                "promo_code": "P",
            },
            {
                "order_id": "2",
                "customer_id": "c1",
                "ts": "2024-01-20",
                "revenue": 50.0,
                "is_refund": False,
            },
            {
                "order_id": "3",
                "customer_id": "c2",
                "ts": "2024-02-01",
                "revenue": 30.0,
                "is_refund": False,
                "promo_code": "Q",
            },
        ],
    )
    return {"customers": customers, "orders": orders}
