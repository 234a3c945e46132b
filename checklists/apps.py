from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ChecklistsConfig(AppConfig):
    name = "checklists"
    verbose_name = _("Checklists")

    def ready(self) -> None:
        from checklists.schedule import schedule_install_after_migrate

        post_migrate.connect(schedule_install_after_migrate, sender=self)
        from checklists.duties.services import duty_assigned
        from checklists.notify.duties import duty_assigned_notify

        duty_assigned.connect(duty_assigned_notify, dispatch_uid="checklists.notify.duties")
        from checklists.escalation.notifying import escalation_words
        from checklists.notify.words import EVENTS

        EVENTS["escalation"] = escalation_words  # reminders and escalations read in the reader's language (issue 17)
        from checklists.duties.campaigns import campaign_followers_open_on_done
        from checklists.duties.services import duty_done

        duty_done.connect(campaign_followers_open_on_done, dispatch_uid="checklists.duties.campaigns")
