"""PostgreSQL's one-statement generation gives a lead-only list (SC-CS-LEAD, PLAYBOOK v2 §7.2) to the lead alone."""

from __future__ import annotations

import pytest

from checklists.daily.generation import run_generate_for_date
from checklists.models import Checklist
from tests.conftest import MONDAY
from tests.factories import member_with_role

pytestmark = pytest.mark.integration


def test_the_set_based_generation_gives_the_service_lead_s_record_to_the_lead_alone(team):
    lead = member_with_role(team, "service", lead=True, username="cs_lead")
    agent = member_with_role(team, "service", username="cs_agent")
    run_generate_for_date(team=team, day=MONDAY.date(), now=MONDAY)
    lists = Checklist.objects.filter(date=MONDAY.date(), template__role__code="service")
    assert set(lists.filter(member=lead).values_list("template__playbook_id", flat=True)) == {"SC-CS", "SC-CS-LEAD"}
    assert set(lists.filter(member=agent).values_list("template__playbook_id", flat=True)) == {"SC-CS"}
