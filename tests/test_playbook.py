"""The playbook as data: every row loaded keeps its ID, a second load changes nothing, edits survive."""

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from checklists.models import ChecklistTemplate, TemplateItem
from checklists.playbook.services import playbook_load
from roles.models import Member, Responsibility, Role, Team

# The source document: beside the repository in the development checkout, else the copy the repository keeps
# (opsteam/playbook/PLAYBOOK.md, held equal to it by test_the_kept_copy_of_the_playbook_is_the_source_s).
SHARED_MD = Path(__file__).resolve().parent.parent.parent / "shared" / "PLAYBOOK.md"
PLAYBOOK_MD = SHARED_MD if SHARED_MD.exists() else Path(__file__).resolve().parent.parent / "opsteam" / "playbook" / "PLAYBOOK.md"


def _counts():
    return (Role.objects.count(), ChecklistTemplate.objects.count(), TemplateItem.objects.count())


def test_load_playbook_twice_leaves_identical_row_counts(team, capsys):
    before = _counts()
    call_command("load_playbook", team="shop")
    assert _counts() == before
    assert "nothing to change" in capsys.readouterr().out


def test_every_role_and_self_check_id_of_the_playbook_is_loaded(team):
    ids = set(Role.objects.filter(team=team).values_list("playbook_id", flat=True))
    ids |= set(TemplateItem.objects.filter(template__team=team).values_list("playbook_id", flat=True))
    # PLAYBOOK v2 §7.1: what each role is for (R-DIR-1, R-TEAM-1, R-LEVEL, ...).
    ids |= set(Responsibility.objects.filter(team=team).values_list("playbook_id", flat=True))
    expected = {"R-DIR", "R-OPS", "R-PRO", "R-ART", "R-CS", "R-WH"} | {f"SC-PRO-{i}" for i in range(1, 9)}
    expected |= {f"SC-CS-{i}" for i in range(1, 8)} | {f"SC-WH-{i}" for i in range(1, 5)}
    expected |= {f"SC-ART-{i}" for i in range(1, 5)} | {f"SC-OPS-{i}" for i in range(1, 14)} | {"SC-DIR-1", "SC-DIR-2"}
    expected |= {f"R-DIR-{i}" for i in range(1, 10)} | {"R-LEVEL", "R-CS-CARE", "R-CS-BDAY", "R-WH-1", "R-WH-2"}
    expected |= {f"R-OPS-{i}" for i in range(1, 13)} | {f"R-PRO-{i}" for i in range(1, 10)} | {f"R-CS-POST-{i}" for i in range(1, 5)}
    assert expected <= ids
    documented = set(re.findall(r"\b((?:R|SC)-[A-Z]+(?:-\d+)?)\b", PLAYBOOK_MD.read_text()))
    assert documented <= ids | {"SC-PRO", "SC-CS", "SC-WH", "SC-ART", "SC-OPS"}


def test_item_texts_are_whole_as_the_playbook_writes_them(team):
    texts = dict(TemplateItem.objects.filter(template__team=team).values_list("playbook_id", "text"))
    assert texts["SC-WH-2"] == "早上检查今天的下单情况并分析,安排最有效率的完成方式;包完货检查有没有遗漏"
    assert texts["SC-CS-5"] == "客服聊天记录 10 条检查,服务质量检查"
    assert texts["SC-OPS-13"] == "关注店铺每天的订单额、付款额、付款率、每日店铺流量、独立IP、每独立IP贡献值、广告消费"
    # The item column (§2 has two columns, §7.2 five); a note in parentheses after a space is not the item's text,
    # parentheses inside the text are (表格(退换货、需要拍照、问题件)).
    rows = dict(re.findall(r"^\| (SC-[A-Z]+-\d+) \| ([^|]*?) \|", PLAYBOOK_MD.read_text(), re.MULTILINE))
    assert len(rows) == 38
    for pid, source in rows.items():
        if pid != "SC-WH-1":  # written as a group with one sub-item per supply
            assert texts[pid] == re.sub(r"\s+\([^()]*\)$", "", source.strip()), pid


def test_a_row_with_an_unknown_key_is_refused_not_half_loaded(team):
    from opsteam.lib.playbook import playbook_read

    data = playbook_read()
    broken = {**data, "checklist_templates": [{**data["checklist_templates"][0], "items": [{"id": "X-1", "text": "a", "b": None}]}]}
    with pytest.raises(ValueError, match="X-1 has unknown keys"):
        playbook_load(team=team, data=broken)


def test_items_carry_their_kind_order_and_targets(team):
    items = TemplateItem.objects.filter(template__team=team)
    assert items.get(playbook_id="SC-CS-5").kind == "count"
    assert items.get(playbook_id="SC-CS-5").target == 10
    assert items.get(playbook_id="SC-ART-4").target == 10
    subs = list(items.filter(parent__playbook_id="SC-WH-1").order_by("order").values_list("text", flat=True))
    assert subs == ["包装盒", "快递单", "胶带", "塑封袋", "相关赠品", "卡片"]
    wh = ChecklistTemplate.objects.get(team=team, playbook_id="SC-WH")
    assert wh.role.code == "warehouse"
    assert str(wh.due_at) == "10:00:00"
    assert str(ChecklistTemplate.objects.get(team=team, playbook_id="SC-OPS-PM").due_at) == "17:00:00"


def test_a_second_load_never_overwrites_an_owner_s_edit(team):
    item = TemplateItem.objects.get(template__team=team, playbook_id="SC-WH-2")
    item.text = "店长改过的文字"
    item.save()
    disabled = TemplateItem.objects.get(template__team=team, playbook_id="SC-WH-4")
    disabled.is_active = False
    disabled.save()
    report = playbook_load(team=team)
    item.refresh_from_db()
    disabled.refresh_from_db()
    assert item.text == "店长改过的文字"
    assert disabled.is_active is False
    assert report.kept.get("checklists.TemplateItem") == 1


def test_a_newer_playbook_updates_rows_nobody_edited(team):
    from opsteam.lib.playbook import playbook_read

    data = playbook_read()
    changed = {**data, "roles": [dict(r, name=r["name"] + "部") if r["code"] == "warehouse" else r for r in data["roles"]]}
    report = playbook_load(team=team, data=changed)
    assert Role.objects.get(team=team, code="warehouse").name == "仓库部"
    assert report.updated.get("roles.Role") == 1


@pytest.mark.django_db
def test_load_playbook_names_a_missing_team():
    with pytest.raises(CommandError, match="No team with slug"):
        call_command("load_playbook", team="nope")


@pytest.mark.django_db
def test_load_demo_is_safe_to_run_twice_and_creates_the_documented_logins(capsys):
    call_command("load_demo")
    call_command("load_demo")
    team = Team.objects.get(slug="demo")
    assert team.name == "示例旗舰店"
    usernames = set(Member.objects.filter(team=team).values_list("user__username", flat=True))
    codes = ["operations", "promotion", "design", "service", "warehouse"]
    assert usernames == {"director"} | {f"{c}_lead" for c in codes} | {f"{c}_1" for c in codes}
    assert Member.objects.get(user__username="director").is_director
    assert Member.objects.get(user__username="warehouse_lead").role_links.get().is_lead
    assert Member.objects.get(user__username="warehouse_1").user.check_password("opsteam-demo")
    assert "warehouse_lead" in capsys.readouterr().out
    from django.contrib.auth import get_user_model

    assert get_user_model().objects.get(username="admin").is_superuser


@pytest.mark.django_db
def test_load_demo_refuses_a_production_configuration(settings):
    settings.OPSTEAM_PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("load_demo")
    assert not Team.objects.exists()


def test_the_kept_copy_of_the_playbook_is_the_source_s():
    kept = Path(__file__).resolve().parent.parent / "opsteam" / "playbook" / "PLAYBOOK.md"
    assert kept.exists()
    if SHARED_MD.exists():  # in the development checkout: the copy must follow the source
        assert kept.read_text() == SHARED_MD.read_text(), "copy ../shared/PLAYBOOK.md to opsteam/playbook/PLAYBOOK.md"
