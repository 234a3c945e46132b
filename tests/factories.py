"""factory_boy factories: a team with the playbook loaded, members with roles, covers."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from roles.models import Member, MemberRole, Role, Team

PASSWORD = "opsteam-test-pw"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"测试店铺{n}")
    slug = factory.Sequence(lambda n: f"shop-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    user = factory.SubFactory(UserFactory)
    team = factory.SubFactory(TeamFactory)
    display_name = factory.Sequence(lambda n: f"成员{n}")


def member_with_role(team: Team, code: str, *, lead: bool = False, username: str | None = None, **kwargs) -> Member:
    """A member of `team` holding the role `code` (loaded from the playbook)."""
    user = UserFactory(username=username) if username else UserFactory()
    member = MemberFactory(team=team, user=user, **kwargs)
    MemberRole.objects.create(member=member, role=Role.objects.get(team=team, code=code), is_lead=lead)
    return member
