"""Counting use: the 30-second double-click rule, robots, pseudonyms, monthly sums."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from repository import usage_reports
from repository.db import Database
from repository.usage import (
    UsageEvent,
    UsageKind,
    UsageMonthly,
    is_robot,
    library_month,
    normalize_query,
    roll_up,
    usage_counts,
    visitor_key,
)
from tests.stats.helpers import BROWSER, GOOGLEBOT, NOW, holdings, seconds, use

VIEW, PAGE, SEARCH = UsageKind.VIEW, UsageKind.PAGE, UsageKind.SEARCH


@pytest.fixture
def session(any_database_url):
    database = Database(any_database_url)
    with database.sessionmaker() as opened:
        yield opened
    database.dispose()


def events(session) -> int:
    return session.scalar(select(func.count(UsageEvent.id)))


# -- the double-click rule -------------------------------------------------------------------

@pytest.mark.parametrize(("gap", "counted"), [(10, 1), (29.9, 1), (30, 1), (40, 2)])
def test_two_views_count_once_within_30_seconds(session, gap, counted):
    item = holdings(session)[0]
    use(session, VIEW, NOW, item=item)
    use(session, VIEW, NOW + seconds(gap), item=item)
    session.commit()
    assert events(session) == counted


def test_a_burst_of_clicks_counts_once_however_long_it_lasts(session):
    """COUNTER compares each click with the one before: reloading every 20 s is one view."""
    item = holdings(session)[0]
    for step in range(10):
        use(session, VIEW, NOW + seconds(20 * step), item=item)
    session.commit()
    assert events(session) == 1
    event = session.scalar(select(UsageEvent))
    assert event.occurred_at == NOW and event.last_at == NOW + seconds(180)


def test_other_visitors_kinds_and_targets_count_apart(session):
    first, second, _third = holdings(session)
    use(session, VIEW, NOW, item=first)
    use(session, VIEW, NOW + seconds(1), visitor="v2", item=first)
    use(session, VIEW, NOW + seconds(2), item=second)
    use(session, PAGE, NOW + seconds(3), item=first, page=1)
    use(session, PAGE, NOW + seconds(4), item=first, page=2)
    use(session, PAGE, NOW + seconds(5), item=first, page=1)  # a double click on page 1
    use(session, SEARCH, NOW + seconds(6), query="Nguyễn Du")
    use(session, SEARCH, NOW + seconds(7), query="  nguyễn   DU ")  # the same words
    use(session, SEARCH, NOW + seconds(8), query="Truyện Kiều")
    session.commit()
    assert events(session) == 7


def test_empty_searches_are_not_counted(session):
    assert use(session, SEARCH, NOW, query="   ") is None
    session.commit()
    assert events(session) == 0


def test_queries_are_normalized_and_truncated():
    assert normalize_query("  Nguye\u0302\u0303n   Du\n") == "nguyễn du"
    assert len(normalize_query("chữ " * 100)) <= 200


# -- who is counted --------------------------------------------------------------------------

@pytest.mark.parametrize("agent", [
    GOOGLEBOT,
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (compatible; coccocbot-web/1.0; +http://help.coccoc.com/searchengine)",
    "python-requests/2.32.3",
    "curl/8.5.0",
    "Wget/1.21.4",
    "",
    None,
])
def test_robots_and_scripts_are_recognised(agent):
    assert is_robot(agent)


@pytest.mark.parametrize("agent", [
    BROWSER,
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36 Zalo android/12100000 ZaloTheme/light",
])
def test_browsers_are_people(agent):
    assert not is_robot(agent)


def test_visitor_keys_are_daily_pseudonyms_without_the_address():
    day = date(2026, 11, 20)
    key = visitor_key(b"secret", "203.0.113.77", BROWSER, day)
    assert key == visitor_key(b"secret", "203.0.113.77", BROWSER, day)
    assert len(key) == 64 and "203.0.113.77" not in key
    assert key != visitor_key(b"secret", "203.0.113.77", BROWSER, date(2026, 11, 21))
    assert key != visitor_key(b"secret", "203.0.113.78", BROWSER, day)
    assert key != visitor_key(b"other secret", "203.0.113.77", BROWSER, day)


# -- months ----------------------------------------------------------------------------------

def test_months_are_library_months():
    # 17:30 UTC on 31 October is 00:30 on 1 November in Viet Nam.
    assert library_month(datetime(2026, 10, 31, 17, 30, tzinfo=UTC)) == date(2026, 11, 1)
    assert library_month(datetime(2026, 10, 31, 16, 30, tzinfo=UTC)) == date(2026, 10, 1)
    assert usage_reports.last_months(NOW, 3) == [date(2026, 9, 1), date(2026, 10, 1),
                                                  date(2026, 11, 1)]
    assert usage_reports.last_months(datetime(2026, 1, 5, tzinfo=UTC), 2) == [
        date(2025, 12, 1), date(2026, 1, 1)]


def seed_three_months(session):
    first, second, _third = holdings(session)
    september, october = datetime(2026, 9, 15, tzinfo=UTC), datetime(2026, 10, 31, 17, 30,
                                                                      tzinfo=UTC)
    for number in range(3):
        use(session, VIEW, september + seconds(60 * number), item=first)
    use(session, VIEW, october, item=first)          # 1 November in Viet Nam
    use(session, VIEW, october, visitor="v2", item=second)
    use(session, SEARCH, september, query="Nghệ An")
    use(session, SEARCH, NOW, query="Nghệ An")
    use(session, SEARCH, NOW, visitor="v2", query="nghệ an")
    use(session, SEARCH, NOW, query="Tiếng Dân")
    use(session, PAGE, NOW, item=second, page=2)
    session.commit()
    return first, second


def dashboard_figures(session):
    months = usage_reports.last_months(NOW, 3)
    return (usage_reports.monthly_totals(session, months),
            usage_reports.top_items(session, months[0], months[-1]),
            usage_reports.top_queries(session, months[0], months[-1]),
            list(usage_reports.monthly_rows(session, "item", months[0], months[-1])))


def test_monthly_counts_are_the_same_before_and_after_the_monthly_sums(session):
    first, second = seed_three_months(session)
    live = dashboard_figures(session)
    totals, top, queries, rows = live
    assert totals[VIEW] == [3, 0, 2] and totals[SEARCH] == [1, 0, 3] and totals[PAGE] == [0, 0, 1]
    assert [(row.title, row.views, row.pages) for row in top] == [
        ("Truyện Kiều (bản Liễu Văn Đường)", 4, 0), ("Địa chí tỉnh Nghệ An", 1, 1)]
    assert queries == [("nghệ an", 3), ("tiếng dân", 1)]
    assert [(r.month, r.code, r.views, r.pages) for r in rows] == [
        (date(2026, 9, 1), first.handle, 3, 0), (date(2026, 11, 1), first.handle, 1, 0),
        (date(2026, 11, 1), second.handle, 1, 1)]

    assert roll_up(session, NOW) == [date(2026, 9, 1)]  # November is still open
    session.commit()
    assert roll_up(session, NOW) == []
    assert session.scalar(select(func.sum(UsageMonthly.count))) == 4
    assert dashboard_figures(session) == live


def test_counts_can_be_grouped_by_collection(session):
    first, _second = seed_three_months(session)
    counts = usage_counts(session, ("collection_id", "kind"), date(2026, 9, 1), date(2026, 11, 1),
                          [VIEW])
    assert counts == {(first.collection_id, VIEW): 5}


def test_holdings_grow_by_publication_month(session):
    made = holdings(session, pages=3)
    made[0].published_at = datetime(2026, 9, 2, tzinfo=UTC)
    made[1].published_at = datetime(2026, 10, 31, 17, 30, tzinfo=UTC)  # 1 November locally
    made[2].published_at = datetime(2026, 11, 3, tzinfo=UTC)
    session.commit()
    grown = usage_reports.holdings(session, usage_reports.last_months(NOW, 3))
    assert grown.items == [1, 1, 3] and grown.pages == [3, 3, 9]
    assert grown.by_type == [("Sách", 2), ("Báo", 1)]
