"""The risk list: ranking, CSV for CRM import, and the page in headless Chromium."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from features.errors import JourneyError
from serving.risk_list import rank_risk_list, render_risk_page, write_csv

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
AS_OF = dt.date(2024, 7, 1)
XSS = '<img src=x onerror="window.__xss=1">'
CURVE = json.dumps([1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15])


def prediction(cid, p, clv, tier, feature, action, **extra):
    return {
        "customer_id": cid,
        "as_of": AS_OF,
        "p_churn": p,
        "risk_tier": tier,
        "p_churn_30d": p / 3,
        "p_churn_60d": p / 2,
        "p_churn_90d": p,
        "median_days_to_churn": 40.0,
        "clv": clv,
        "clv_p10": clv,
        "clv_p90": clv,
        "value_at_risk": None if clv is None else p * clv,
        "reason_1": f"reason for {cid}",
        "reason_2": None,
        "reason_3": None,
        "reason_1_feature": feature,
        "reason_2_feature": None,
        "reason_3_feature": None,
        "recommended_action": action,
        "recommended_size": "34C",
        "survival_curve": CURVE,
        **extra,
    }


PREDICTIONS = pd.DataFrame(
    [
        prediction("a", 0.2, 100.0, "low", "recency_days", "win-back offer"),
        prediction("b", 0.9, 50.0, "high", "fit_returns_90d", "fit consultation"),
        prediction("c", 0.5, None, "medium", "recency_days", "win-back offer"),
        prediction(
            XSS, 0.7, 10.0, "high", "fit_returns_90d", '=HYPERLINK("http://x")', reason_1=XSS
        ),
    ]
)


def test_ranked_by_value_at_risk_with_nulls_last():
    ranked = rank_risk_list(PREDICTIONS)
    # b 45, a 20, xss 7, c null
    assert ranked.customer_id.tolist() == ["b", "a", XSS, "c"]
    assert ranked["rank"].tolist() == [1, 2, 3, 4]


def test_customer_columns_join_and_csv_guards_formulas(tmp_path):
    customers = pd.DataFrame({"customer_id": ["a", "b"], "segment": ["vip", "core"]})
    ranked = rank_risk_list(PREDICTIONS, customers)
    assert list(ranked.columns[:3]) == ["rank", "customer_id", "segment"]
    path = write_csv(ranked, tmp_path / "list.csv")
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert back.loc[2, "recommended_action"] == '\'=HYPERLINK("http://x")'
    assert back.loc[0, "segment"] == "core" and back.loc[3, "segment"] == ""
    assert "survival_curve" not in back.columns and "reason_1_feature" not in back.columns


def test_page_escapes_data_and_allows_only_its_own_script():
    ranked = rank_risk_list(PREDICTIONS)
    page = render_risk_page(ranked, PREDICTIONS, as_of=AS_OF, rows=100)
    assert "<img src=x" not in page  # in JSON as \u003cimg, in <option> as &lt;img
    assert "script-src 'sha256-" in page and "unsafe-inline'; script-src" in page
    assert page.count("<script") == 2


def test_page_names_the_survival_median_by_churn_definition():
    """Under inactivity the median is the spell to the next order (long = risky)."""
    ranked = rank_risk_list(PREDICTIONS)
    inactivity = render_risk_page(ranked, PREDICTIONS, as_of=AS_OF, rows=100)
    assert ">days to next order (median)</th>" in inactivity
    assert "days to churn" not in inactivity
    lapse = render_risk_page(
        ranked, PREDICTIONS, as_of=AS_OF, rows=100, churn_definition="cancellation"
    )
    assert ">days to churn (median)</th>" in lapse
    with pytest.raises(JourneyError, match="inactivity"):
        render_risk_page(ranked, PREDICTIONS, as_of=AS_OF, rows=100, churn_definition="inactive")


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return path


@pytest.mark.browser
def test_page_sorts_filters_and_shows_a_customer_in_headless_chromium(tmp_path):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    history = pd.concat(
        [PREDICTIONS.assign(as_of=AS_OF - dt.timedelta(days=1), p_churn=0.1), PREDICTIONS]
    )
    ranked = rank_risk_list(PREDICTIONS, pd.DataFrame({"customer_id": ["a"], "segment": ["vip"]}))
    page_file = tmp_path / "risk.html"
    page_file.write_text(render_risk_page(ranked, history, as_of=AS_OF, rows=100), encoding="utf-8")
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 800})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_file.as_uri())

        def ids():
            return page.locator("#risk tbody tr").evaluate_all(
                "rows => rows.map(r => r.getAttribute('data-id'))"
            )

        assert ids() == ["b", "a", XSS, "c"]
        assert page.locator("#count").inner_text() == "4 of 4 customers"
        page.click("th[data-key=p_churn]")  # numbers sort high to low first
        assert ids() == ["b", XSS, "c", "a"]
        page.click("th[data-key=p_churn]")
        assert ids() == ["a", "c", XSS, "b"]
        assert page.get_attribute("th[data-key=p_churn]", "aria-sort") == "ascending"
        page.select_option("#f-tier", "high")
        assert sorted(ids()) == sorted(["b", XSS])
        page.select_option("#f-action", "fit consultation")
        assert ids() == ["b"]
        page.select_option("#f-tier", "")
        page.select_option("#f-action", "")
        page.select_option("#f-reason", "recency_days")
        assert ids() == ["a", "c"]
        page.select_option("#f-reason", "")
        # Data strings are text, never markup.
        xss_row = page.locator("#risk tbody tr").nth(2)
        assert XSS in xss_row.inner_text()
        assert page.evaluate("window.__xss") is None
        assert page.locator("#risk img").count() == 0
        page.click("#risk tbody tr[data-id=a]")
        assert page.is_visible("#detail")
        assert page.inner_text("#d-title") == "customer a"
        assert page.locator("#d-curve path.curve").count() == 1
        assert page.locator("#d-history tbody tr").count() == 2
        assert "vip" in page.inner_text("#d-facts")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "risk_list.png"), full_page=True)
        browser.close()
    assert errors == []  # no script error, no CSP violation, no network request
