"""Tick photos (issue 15): an upload is only ever an image, stored under the server's name, without the phone's GPS."""

from __future__ import annotations

import importlib
import io
import struct
import zlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from checklists.daily.ticks import tick_record
from checklists.models import ChecklistItem, TickEvent
from opsteam.lib.images import IMAGE_CSP, IMAGE_MAX_SIDE
from tests.conftest import MONDAY
from tests.factories import member_with_role

JS_PAYLOAD = b"document.title='pwned';"


def gif_javascript_polyglot(payload: bytes = JS_PAYLOAD) -> bytes:
    """A real GIF that is also JavaScript: its width is the bytes '/*', so a script opens a comment there, and the
    comment closes after the GIF's trailer: `GIF89a/*...*/=document.title='pwned';`."""
    image = Image.new("P", (0x2A2F, 10), 0)  # width 10799, little-endian b"/*"
    image.putpalette([200, 30, 30] * 256)
    buffer = io.BytesIO()
    image.save(buffer, format="GIF")
    data = buffer.getvalue()
    assert data[6:8] == b"/*"
    assert b"*/" not in data
    return data + b"*/=" + payload


def gif_html_polyglot(script_src: str = "") -> bytes:
    """A real GIF whose comment is an HTML page: served as text/html, a browser runs it."""
    page = b"<html><head><title>ok</title></head><body><h1>photo</h1><script>" + JS_PAYLOAD + b"</script>"
    if script_src:
        page += b'<script src="' + script_src.encode() + b'"></script>'
    buffer = io.BytesIO()
    Image.new("P", (16, 16), 0).save(buffer, format="GIF", comment=page + b"</body></html>")
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a size: a decompression bomb is 68 bytes saying 100000 x 100000."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def jpeg_with_gps(size=(40, 20), orientation: int = 6) -> bytes:
    """A phone photo: EXIF with the camera's position (31°14' N, 121°28' E) and "turn 90° to show it upright"."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)})
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 160, 60)).save(buffer, format="JPEG", exif=exif.tobytes())
    return buffer.getvalue()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def ops(team):
    return member_with_role(team, "operations", username="ops1", display_name="吴运营")


@pytest.fixture
def photo_item(ops, generate, media):
    generate()
    return ChecklistItem.objects.get(checklist__member=ops, playbook_id="SC-OPS-8")


def token_client(member) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=member.user)[0].key}")
    return client


def upload(way: str, *, item: ChecklistItem, member, name: str, content: bytes, content_type: str = "image/gif", client=None):
    """A photo sent the way a person sends it: the today page's form (htmx) or the API's multipart tick."""
    if way == "page":
        client.force_login(member.user)
        file = SimpleUploadedFile(name, content, content_type)
        return client.post(f"/items/{item.pk}/tick/", {"photo": file}, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en")
    file = SimpleUploadedFile(name, content, content_type)
    return token_client(member).post(
        f"/api/v1/checklist-items/{item.pk}/tick/", {"photo": file}, format="multipart", HTTP_ACCEPT_LANGUAGE="en"
    )


@pytest.mark.parametrize("way", ["page", "api"])
@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("x.js", gif_javascript_polyglot(), "application/javascript"),
        ("x.html", gif_html_polyglot(), "text/html"),
    ],
    ids=["gif-that-is-javascript", "gif-that-is-html"],
)
def test_a_polyglot_photo_is_stored_as_a_gif_under_a_server_name_and_served_only_as_an_image(
    way, name, content, content_type, photo_item, ops, director, client, frozen
):
    answer = upload(way, item=photo_item, member=ops, name=name, content=content, content_type=content_type, client=client)
    assert answer.status_code == 200, answer.content[:500]
    photo_item.refresh_from_db()
    assert photo_item.status == "done"
    assert photo_item.photo.name.startswith("ticks/2026/11/23/")
    stem, extension = photo_item.photo.name.rsplit("/", 1)[-1].rsplit(".", 1)
    assert (len(stem), set(stem) <= set("0123456789abcdef"), extension) == (32, True, "gif")
    stored = photo_item.photo.read()
    assert stored.startswith(b"GIF8")
    # Re-encoded: only the pixels came through.
    assert b"pwned" not in stored
    assert b"<script" not in stored

    client.force_login(director.user)  # the attack: the director opens the member's photo
    for opener, url in ((client, "/items/{id}/photo/"), (token_client(director), "/api/v1/checklist-items/{id}/photo/")):
        served = opener.get(url.format(id=photo_item.pk), HTTP_ACCEPT="text/html,*/*")
        assert served.status_code == 200
        assert served["Content-Type"] == "image/gif"
        assert served["X-Content-Type-Options"] == "nosniff"
        assert served["Content-Security-Policy"] == IMAGE_CSP == "default-src 'none'; sandbox"
        assert served["Content-Disposition"] == f'inline; filename="photo-{photo_item.pk}.gif"'
        assert b"".join(served.streaming_content) == stored


def test_the_site_keeps_its_own_policy_on_its_pages(client, ops, photo_item, frozen):
    client.force_login(ops.user)
    assert "script-src 'self'" in client.get("/today/")["Content-Security-Policy"]


def test_the_phones_gps_position_and_camera_details_are_not_kept_and_the_photo_is_turned_upright(photo_item, ops, frozen):
    original = Image.open(io.BytesIO(jpeg_with_gps()))
    assert original.getexif().get_ifd(0x8825)[2] == (31.0, 14.0, 0.0)  # the test photo does carry a position

    item, _ = tick_record(item=photo_item, actor=ops, now=MONDAY, photo=SimpleUploadedFile("IMG_0001.JPG", jpeg_with_gps(), "image/jpeg"))

    assert item.photo.name.endswith(".jpg")
    stored = item.photo.read()
    kept = Image.open(io.BytesIO(stored))
    assert kept.format == "JPEG"
    assert dict(kept.getexif()) == {}
    assert kept.getexif().get_ifd(0x8825) == {}
    assert b"Exif" not in stored
    assert b"PhoneMaker" not in stored
    assert kept.size == (20, 40)  # orientation 6 applied to the pixels before the EXIF was dropped


@pytest.mark.parametrize("way", ["page", "api"])
@pytest.mark.parametrize(
    ("width", "height", "says"),
    [
        (100_000, 100_000, "the limit is 150 megapixels"),  # beyond Pillow's own guard: refused at open
        (15_000, 15_000, "(15000 × 15000 pixels); the limit is 50 megapixels"),  # a PNG is decoded in full
    ],
    ids=["92-byte-bomb", "huge-png"],
)
def test_a_decompression_bomb_is_refused_with_a_message_naming_the_limit_and_nothing_is_written(
    way, width, height, says, photo_item, ops, client, media, frozen
):
    bomb = png_claiming(width, height)
    assert len(bomb) < 100

    answer = upload(way, item=photo_item, member=ops, name="bomb.png", content=bomb, content_type="image/png", client=client)

    if way == "api":
        assert answer.status_code == 400
        [message] = answer.json()["photo"]
    else:
        assert answer.status_code == 200  # the card again, with the error under the item
        message = answer.content.decode()
    assert "This picture is too large to open" in message
    assert says in message
    assert "lower resolution" in message
    photo_item.refresh_from_db()
    assert (photo_item.status, photo_item.photo.name) == ("open", "")
    assert not [path for path in media.rglob("*") if path.is_file()]
    assert not TickEvent.objects.filter(item=photo_item).exists()


def test_a_bomb_is_refused_in_chinese_too(photo_item, ops, frozen):
    from django.core.exceptions import ValidationError
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        tick_record(item=photo_item, actor=ops, now=MONDAY, photo=SimpleUploadedFile("b.png", png_claiming(100_000, 100_000), "image/png"))
    assert "150" in refused.value.message_dict["photo"][0]
    assert "像素" in refused.value.message_dict["photo"][0]


def test_a_12000_pixel_photo_is_scaled_down_to_2560_on_its_longest_side(photo_item, ops, frozen):
    buffer = io.BytesIO()
    Image.new("L", (12000, 12000), 128).save(buffer, format="JPEG", quality=60)

    item, _ = tick_record(item=photo_item, actor=ops, now=MONDAY, photo=SimpleUploadedFile("big.jpg", buffer.getvalue(), "image/jpeg"))

    assert Image.open(item.photo.open("rb")).size == (IMAGE_MAX_SIDE, IMAGE_MAX_SIDE) == (2560, 2560)


def test_a_wide_photo_keeps_its_shape_when_scaled_down(photo_item, ops, frozen):
    buffer = io.BytesIO()
    Image.new("RGB", (4000, 1000), (1, 2, 3)).save(buffer, format="WEBP")

    item, _ = tick_record(item=photo_item, actor=ops, now=MONDAY, photo=SimpleUploadedFile("wide.webp", buffer.getvalue(), "image/webp"))

    assert item.photo.name.endswith(".webp")
    assert Image.open(item.photo.open("rb")).size == (2560, 640)


def test_a_heic_photo_is_refused_with_how_to_send_a_jpeg_instead(photo_item, ops, frozen):
    from django.core.exceptions import ValidationError
    from django.utils import translation

    heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 200
    with translation.override("en"), pytest.raises(ValidationError, match=r"HEIC format.*Most Compatible"):
        tick_record(item=photo_item, actor=ops, now=MONDAY, photo=SimpleUploadedFile("IMG_0002.HEIC", heic, "image/heic"))


def test_a_picture_format_outside_the_list_is_refused_even_if_pillow_could_read_it(photo_item, ops, frozen):
    from django.core.exceptions import ValidationError

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="BMP")
    with pytest.raises(ValidationError, match="不是图片"):
        tick_record(item=photo_item, actor=ops, now=MONDAY, photo=SimpleUploadedFile("x.png", buffer.getvalue(), "image/png"))


def test_a_file_name_from_the_uploader_never_reaches_storage(photo_item):
    from checklists.daily.models import tick_photo_path

    names = [tick_photo_path(photo_item, name) for name in ("photo.png", "../../x.html", "x.js", "a.PNG", "noextension")]
    assert [name.rsplit(".", 1)[1] for name in names] == ["png", "bin", "bin", "png", "bin"]
    assert all(name.startswith("ticks/2026/11/23/") and name.count("/") == 4 for name in names)
    assert len(set(names)) == len(names)


def _migration():
    return importlib.import_module("checklists.migrations.0012_tick_photos_server_named")


def test_the_migration_re_encodes_old_photos_under_server_names_and_takes_non_pictures_off_their_items(team, generate, media):
    people = [member_with_role(team, "operations", username=f"ops{n}") for n in range(4)]
    generate()
    polyglot, text, lost, modern = (ChecklistItem.objects.get(checklist__member=m, playbook_id="SC-OPS-8") for m in people)
    # As the code before issue 15 stored them: the uploader's name and bytes.
    old_polyglot = default_storage.save("ticks/2026/11/23/x.html", ContentFile(gif_html_polyglot()))
    old_text = default_storage.save("ticks/2026/11/23/notes.txt", ContentFile(b"<script>alert(1)</script>"))
    ChecklistItem.objects.filter(pk=polyglot.pk).update(photo=old_polyglot)
    ChecklistItem.objects.filter(pk=text.pk).update(photo=old_text)
    ChecklistItem.objects.filter(pk=lost.pk).update(photo="ticks/2026/11/23/gone.jpg")
    said = []

    _migration().photos_server_named(apps, SimpleNamespace(connection=connection), say=said.append)

    polyglot.refresh_from_db()
    assert polyglot.photo.name != old_polyglot
    assert polyglot.photo.name.startswith("ticks/2026/11/23/")
    assert polyglot.photo.name.endswith(".gif")
    assert len(polyglot.photo.name.rsplit("/", 1)[1]) == len("0123456789abcdef0123456789abcdef.gif")
    stored = polyglot.photo.read()
    assert stored.startswith(b"GIF8")
    assert b"pwned" not in stored
    assert not (media / old_polyglot).exists()
    text.refresh_from_db()
    assert text.photo.name == ""
    assert not (media / old_text).exists()
    lost.refresh_from_db()
    assert lost.photo.name == "ticks/2026/11/23/gone.jpg"  # left for the operator (storage not mounted?)
    modern.refresh_from_db()
    assert modern.photo.name == ""
    report = "\n".join(said)
    assert f"item {text.pk}: {old_text} is not a picture" in report
    assert f"item {lost.pk}: photo ticks/2026/11/23/gone.jpg is missing" in report
    assert "1 re-encoded under server-chosen names, 1 removed (not pictures), 1 missing" in report


def test_the_migration_keeps_the_graph_linear_and_reverses_as_nothing(db):
    from django.db.migrations.loader import MigrationLoader

    graph = MigrationLoader(connection).graph
    assert len(graph.leaf_nodes("checklists")) == 1
    assert ("checklists", "0012_tick_photos_server_named") in graph.nodes
    migration = _migration().Migration
    assert migration.atomic is False  # a photo at a time: files cannot roll back with the rows
    assert migration.operations[0].reversible


def test_a_photo_stored_under_an_old_name_is_only_offered_as_a_download(photo_item, ops, client, media, frozen):
    old = default_storage.save("ticks/2026/11/23/x.html", ContentFile(gif_html_polyglot()))
    ChecklistItem.objects.filter(pk=photo_item.pk).update(photo=old)
    client.force_login(ops.user)

    served = client.get(f"/items/{photo_item.pk}/photo/")

    assert served["Content-Type"] == "application/octet-stream"
    assert served["Content-Disposition"] == f'attachment; filename="photo-{photo_item.pk}.bin"'
    assert served["Content-Security-Policy"] == IMAGE_CSP


def test_a_photo_missing_from_storage_is_a_404_not_a_server_error(photo_item, ops, client, frozen):
    ChecklistItem.objects.filter(pk=photo_item.pk).update(photo="ticks/2026/11/23/0123456789abcdef0123456789abcdef.jpg")
    client.force_login(ops.user)
    assert client.get(f"/items/{photo_item.pk}/photo/").status_code == 404
    assert token_client(ops).get(f"/api/v1/checklist-items/{photo_item.pk}/photo/").status_code == 404
