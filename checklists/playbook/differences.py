"""Record where a team's edited rows and the default playbook differ (issue 19), for the director to see."""

from __future__ import annotations

from checklists.models import PlaybookDifference
from opsteam.lib.playbook import Difference
from roles.models import Team


def playbook_differences_record(*, team: Team, differences: list[Difference], loaded: dict[str, set[int]]) -> None:
    """Keep exactly the differences of this load for the rows it looked at: a row the owner put back in line with
    the playbook (or that the playbook caught up with) loses its record; rows the load did not look at keep theirs.
    Nothing is written when nothing changed, so a second load writes nothing."""
    wanted = {(d.model, d.object_id, d.field): d for d in differences}
    looked_at = {(label, pk) for label, pks in loaded.items() for pk in pks} | {(d.model, d.object_id) for d in differences}
    existing = {
        (row.model, row.object_id, row.field): row
        for row in PlaybookDifference.objects.filter(team=team, model__in={label for label, _pk in looked_at})
        if (row.model, row.object_id) in looked_at
    }
    stale = [row.pk for key, row in existing.items() if key not in wanted]
    if stale:
        PlaybookDifference.objects.filter(pk__in=stale).delete()
    for key, difference in wanted.items():
        row = existing.get(key)
        values = {
            "playbook_id": difference.playbook_id,
            "team_value": difference.team_value,
            "playbook_value": difference.playbook_value,
        }
        if row is None:
            PlaybookDifference.objects.create(
                team=team, model=difference.model, object_id=difference.object_id, field=difference.field, **values
            )
        elif any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            row.save()


def playbook_difference_list(*, team: Team) -> list[PlaybookDifference]:
    """What the director is shown: every field where an edited row keeps the team's version against the playbook."""
    return list(PlaybookDifference.objects.filter(team=team).order_by("model", "playbook_id", "field"))
