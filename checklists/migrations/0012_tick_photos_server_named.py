"""Tick photos stored before issue 15 kept the uploader's file name (x.js, x.html) and bytes.

Each one is re-encoded by the function new uploads go through (opsteam.lib.images.image_clean) and stored under a
name the server chooses, with its format's extension (checklists.models.runs.tick_photo_path); the old file is
deleted. A file that is not a picture (or one too large to open) is taken off its item and deleted, and said in
the output. A file that is missing is left on its row and said: MEDIA_ROOT may not be mounted where this runs.

Not atomic: each photo is its own step, the new file written before its row changes and the old one deleted after,
so a stop half-way leaves every row naming a file that exists, and running it again finishes the rest.
Reversing it changes nothing (the old names are not wanted back).
"""

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import migrations

from opsteam.lib.images import image_clean

# Photos already stored passed the upload limit of their day; this only keeps a stray huge file from being read
# into memory. The pixel limits of image_clean apply as for an upload.
STORED_PHOTO_MAX_BYTES = 64 * 1024 * 1024


def photos_server_named(apps, schema_editor, say=print):
    ChecklistItem = apps.get_model("checklists", "ChecklistItem")
    field = ChecklistItem._meta.get_field("photo")
    storage = field.storage
    items = ChecklistItem.objects.using(schema_editor.connection.alias)
    moved = removed = missing = 0
    for item in items.exclude(photo="").select_related("checklist").order_by("pk").iterator(chunk_size=200):
        old = item.photo.name
        try:
            with storage.open(old, "rb") as file:
                clean = image_clean(file, max_bytes=STORED_PHOTO_MAX_BYTES)
        except FileNotFoundError:
            missing += 1
            say(f"  item {item.pk}: photo {old} is missing from storage; left as it is")
            continue
        except ValidationError as exc:
            items.filter(pk=item.pk, photo=old).update(photo="")
            storage.delete(old)
            removed += 1
            say(f"  item {item.pk}: {old} is not a picture that can be kept ({' '.join(exc.messages)}); removed from the item")
            continue
        new = storage.save(field.generate_filename(item, f"photo.{clean.extension}"), ContentFile(clean.content))
        if items.filter(pk=item.pk, photo=old).update(photo=new):
            storage.delete(old)
            moved += 1
        else:  # the row changed meanwhile (a new tick): its new photo stands, this copy is not needed
            storage.delete(new)
    if moved or removed or missing:
        say(f"  tick photos: {moved} re-encoded under server-chosen names, {removed} removed (not pictures), {missing} missing")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("checklists", "0011_idempotency_keys"),
    ]

    operations = [
        migrations.RunPython(photos_server_named, migrations.RunPython.noop, elidable=True),
    ]
