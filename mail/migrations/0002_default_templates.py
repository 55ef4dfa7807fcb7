"""One editable template per notification event, holding the defaults (the practice's own subject and text)."""

from django.db import migrations

HTML = (
    '<div style="font-family:sans-serif">{{ message|linebreaksbr }}</div>'
    '<p style="color:#666;font-size:small"><a href="{{ ticket.url }}">{{ ticket.number }}</a> '
    "{{ ticket.short_description }}</p>"
)


def create(apps, schema_editor):
    from mail.events import NOTIFICATION_EVENTS

    template = apps.get_model("mail", "NotificationTemplate")
    for event in NOTIFICATION_EVENTS:
        template.objects.get_or_create(
            event=event, defaults={"subject": "{{ subject }}", "text_body": "{{ message }}", "html_body": HTML}
        )


class Migration(migrations.Migration):
    dependencies = [("mail", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
