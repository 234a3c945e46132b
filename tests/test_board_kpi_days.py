"""The KPI drill-down shows the days that make the period's figure (issue 20): a per-agent ratio such as 客服询单转化率
(K-CS-CONV) shows each day's parts summed over the agents, each agent's own, and the period's row, on the page and in
the API's scorecard. Every figure below is worked out by hand."""

from __future__ import annotations

import re
from datetime import date

import pytest

from roles.selectors.kpi_scorecard import scorecard_get
from roles.services.kpi import entry_save
from tests.conftest import MONDAY
from tests.factories import PASSWORD, member_with_role

START, DAY_ONE, DAY_TWO, END = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 3)


@pytest.fixture
def two_agents(team, service_member):
    """郑客服: 20 of 50 on 11-02, 15 of 25 on 11-03; 王客服: 9 of 30 on 11-02 only; nobody on 11-01.

    By hand: 11-02 pooled (20 + 9) / (50 + 30) = 29 / 80 = 36.25%; 11-03 15 / 25 = 60.00%; the period
    (29 + 15) / (80 + 25) = 44 / 105 = 41.90%; 郑客服 35 / 75 = 46.67%, 王客服 9 / 30 = 30.00%.
    """
    second = member_with_role(team, "service", username="cs2", display_name="王客服")
    for member, day, asked, bought in ((service_member, DAY_ONE, 50, 20), (second, DAY_ONE, 30, 9), (service_member, DAY_TWO, 25, 15)):
        figures = {"cs_inquiries": str(asked), "cs_inquiry_buyers": str(bought)}
        entry_save(team=team, day=day, member=member, figures=figures, actor=None, now=MONDAY)
    return service_member, second


def _cells(row_html: str) -> list[str]:
    return [c.strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row_html, re.S)]


def test_the_service_conversion_drill_down_shows_each_days_parts_summed_over_the_agents(client, team, director, two_agents):
    assert client.login(username=director.user.username, password=PASSWORD)
    html = client.get("/board/kpi/", {"metric": "cs_conversion", "start": START.isoformat(), "end": END.isoformat()}).content.decode()
    body = html.split('data-testid="kpi-days"')[1]
    rows = re.findall(r"<tr(?: [^>]*)?>(.*?)</tr>", body.split("</table>")[0], re.S)[1:]  # after the header
    table = [_cells(r) for r in rows]
    # Each day: date, 询单成交人数, 询单人数, the day's ratio; under it each agent with a figure that day.
    assert table[0][1:] == ["–", "–", "–"]  # 11-01: nobody recorded
    assert table[1][1:] == ["29.00", "80.00", "36.25%"]
    assert table[2][1:] == ["9.00", "30.00", "30.00%"]
    assert "王客服" in table[2][0]
    assert table[3][1:] == ["20.00", "50.00", "40.00%"]
    assert "郑客服" in table[3][0]
    assert table[4][1:] == ["15.00", "25.00", "60.00%"]
    assert table[5][1:] == ["15.00", "25.00", "60.00%"]
    assert "郑客服" in table[5][0]
    assert table[6][1:] == ["44.00", "105.00", "41.90%"]  # the period: the days' parts summed, then divided
    assert re.search(r'data-testid="period-value">41\.90%<', html)


def test_the_period_figure_of_the_service_conversion_is_the_sum_of_its_daily_rows(team, two_agents):
    card = scorecard_get(team=team, start=START, end=END)
    conv = next(k for k in card.kpis if k.kpi.playbook_id == "K-CS-CONV")
    assert [(d.day, d.numerator, d.denominator) for d in conv.daily] == [(START, None, None), (DAY_ONE, 29, 80), (DAY_TWO, 15, 25)]
    assert sum(d.numerator for d in conv.daily if d.numerator) == conv.numerator == 44
    assert sum(d.denominator for d in conv.daily if d.denominator) == conv.denominator == 105
    assert conv.display == "41.90%"
    assert [(m.name, m.numerator, m.denominator, f"{m.value * 100:.2f}") for m in conv.members] == [
        ("王客服", 9, 30, "30.00"),
        ("郑客服", 35, 75, "46.67"),
    ]


def test_the_api_scorecard_gives_the_service_conversions_daily_rows_per_agent(client, team, director, two_agents):
    first, second = two_agents
    assert client.login(username=director.user.username, password=PASSWORD)
    data = client.get("/api/v1/kpi/scorecard/", {"start": START.isoformat(), "end": END.isoformat()}).json()
    conv = next(k for k in data["kpis"] if k["id"] == "K-CS-CONV")
    assert (conv["numerator"], conv["denominator"]) == (44.0, 105.0)
    assert conv["daily"][1] == {
        "date": "2026-11-02",
        "numerator": 29.0,
        "denominator": 80.0,
        "value": 0.3625,
        "agents": [
            {"member": second.pk, "name": "王客服", "numerator": 9.0, "denominator": 30.0, "value": 0.3},
            {"member": first.pk, "name": "郑客服", "numerator": 20.0, "denominator": 50.0, "value": 0.4},
        ],
    }
    assert conv["daily"][0]["value"] is None
    assert conv["daily"][0]["agents"] == []
    assert conv["daily"][2]["value"] == 0.6


def test_a_shop_ratio_drill_down_ends_with_the_periods_summed_parts(client, team, director):
    for day, sales, visitors in ((DAY_ONE, "300", "100"), (DAY_TWO, "100", "300")):
        entry_save(team=team, day=day, member=None, figures={"sales": sales, "visitors": visitors}, actor=None, now=MONDAY)
    assert client.login(username=director.user.username, password=PASSWORD)
    html = client.get("/board/kpi/", {"metric": "uv_value", "start": DAY_ONE.isoformat(), "end": END.isoformat()}).content.decode()
    period = re.search(r'data-testid="kpi-period-row">(.*?)</tr>', html, re.S).group(1)
    # 400 / 400 = 1.00 for the period, although the days are 3.00 and 0.33 (never their average, 1.67).
    assert _cells(period)[1:] == ["400.00", "400.00", "1.00"]
