"""Pictures a member uploads: read only as an image, re-encoded, and served so that they can only ever be an image.

A file is whatever its bytes say, not what its name or its Content-Type says. A GIF can also be JavaScript or an
HTML page (a polyglot); served with a type guessed from the uploader's name (x.js, x.html) it ran as a page of this
site (issue 15). So an uploaded picture is decoded by Pillow from an allow-list of formats, drawn again into a new
file of that format (which leaves behind every byte that is not pixels: comments, trailing data, EXIF with the
phone's GPS position), stored under a name the server chooses, and served with its image type, nosniff and a
sandboxing Content-Security-Policy of its own. docs/security.md ("Photos") states the limits below.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import IO

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

# Pillow name -> (extension, content type). Nothing else is even tried: Pillow's rarer decoders (EPS runs
# Ghostscript, for one) never see an upload. HEIC (an iPhone's default) is not readable by this Pillow build.
IMAGE_FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
    "GIF": ("gif", "image/gif"),
}
IMAGE_CONTENT_TYPES = dict(IMAGE_FORMATS.values())
# The longest side kept: enough to read a label on a phone; a 12000 px photo would be sent to every phone that opens
# the day. Larger pictures are scaled down.
IMAGE_MAX_SIDE = 2560
# Pixels, read from the header before anything is decoded. A JPEG is decoded at 1/2, 1/4 or 1/8 of its size when it
# is scaled down (draft mode), so 150 MP (a 12000 x 12000 photo) costs ~30 MB; PNG, WebP and GIF are decoded in full
# (4 bytes a pixel), so they stop at 50 MP (~200 MB). A 92-byte PNG claiming 100000 x 100000 is refused unread.
IMAGE_MAX_PIXELS = 150_000_000
IMAGE_MAX_PIXELS_FULL_DECODE = 50_000_000
# Pillow's own decompression-bomb guard, set on purpose to the same limit (its default is ~89 MP): it warns above
# this and raises DecompressionBombError above twice this, for every image this process opens.
Image.MAX_IMAGE_PIXELS = IMAGE_MAX_PIXELS
JPEG_QUALITY = 85
WEBP_QUALITY = 85
# Photo served: its own policy replaces the site's. Nothing loads, nothing runs, and a document made of it is sandboxed.
IMAGE_CSP = "default-src 'none'; sandbox"
# Pillow raises any of these for a file that starts like an image and then is not one.
_DECODE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, KeyError, TypeError)
# ISO base media (HEIF, AVIF): "ftyp" at byte 4, then the brand.
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}


@dataclass(frozen=True)
class CleanImage:
    """An uploaded picture drawn again: its bytes, the extension and content type of its format, its size."""

    content: bytes
    extension: str
    content_type: str
    width: int
    height: int


def _not_a_picture() -> ValidationError:
    return ValidationError(_("This file is not a picture. Upload a JPEG, PNG, WebP or GIF photo."), code="invalid_image")


def _too_many_pixels(width: int | None = None, height: int | None = None, limit: int = IMAGE_MAX_PIXELS) -> ValidationError:
    if width is None or height is None:
        message = _("This picture is too large to open; the limit is %(limit)d megapixels. Take it again at a lower resolution.")
        return ValidationError(message % {"limit": limit // 1_000_000}, code="image_too_many_pixels")
    message = _(
        "This picture is too large to open (%(width)d × %(height)d pixels); the limit is %(limit)d megapixels. "
        "Take it again at a lower resolution."
    )
    return ValidationError(message % {"width": width, "height": height, "limit": limit // 1_000_000}, code="image_too_many_pixels")


def _refusal_for_unreadable(head: bytes) -> ValidationError:
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return ValidationError(
            _(
                "This photo is in HEIC format, which is not accepted. Upload a JPEG, PNG, WebP or GIF photo "
                "(on an iPhone: Settings › Camera › Formats › Most Compatible)."
            ),
            code="image_heic",
        )
    return _not_a_picture()


def image_clean(file: IO[bytes], *, max_bytes: int) -> CleanImage:
    """The uploaded picture re-encoded in its own format (first frame of an animation), upright, at most
    IMAGE_MAX_SIDE on its longest side, in sRGB, with no metadata. Raises ValidationError with a message for
    the person who sent it: too many bytes, too many pixels, not a picture, a format not accepted.
    """
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, io.SEEK_END)
        size = file.tell()
    if size > max_bytes:
        raise ValidationError(
            _("The photo is too large (%(size).1f MB); the limit is %(limit).0f MB. Take it again at a lower resolution.")
            % {"size": size / 1048576, "limit": max_bytes / 1048576},
            code="image_too_large",
        )
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    try:
        image = Image.open(file, formats=list(IMAGE_FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard, above twice IMAGE_MAX_PIXELS (or above it where warnings are errors).
        raise _too_many_pixels() from None
    except _DECODE_ERRORS:
        raise _refusal_for_unreadable(head) from None
    try:
        return _image_redraw(image)
    finally:
        file.seek(0)  # not image.close(): that closes the caller's file too


def _image_redraw(image: Image.Image) -> CleanImage:
    source_format = image.format
    extension, content_type = IMAGE_FORMATS[source_format]
    width, height = image.size
    limit = IMAGE_MAX_PIXELS if source_format == "JPEG" else IMAGE_MAX_PIXELS_FULL_DECODE
    if width < 1 or height < 1:
        raise _not_a_picture()
    if width * height > limit:
        raise _too_many_pixels(width, height, limit)
    try:
        if source_format == "JPEG":
            # Decode at the smallest 1/2^n scale still at least IMAGE_MAX_SIDE: a 12000 px photo is read at 3000 px.
            image.draft(None, (IMAGE_MAX_SIDE, IMAGE_MAX_SIDE))
        image.thumbnail((IMAGE_MAX_SIDE, IMAGE_MAX_SIDE), Image.Resampling.LANCZOS)  # in place; keeps info (EXIF)
        image.load()  # thumbnail() does not decode a picture that is already small enough
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(width, height, limit) from None
    except (*_DECODE_ERRORS, MemoryError):
        raise _not_a_picture() from None
    image = _upright(image)
    image = _in_srgb(image, source_format)
    image = _in_mode_for(image, source_format)
    # What is written is only the pixels (and a palette's transparent index): no EXIF, GPS, XMP, comments or
    # profile can come through from the upload, whatever a format's writer would copy from info.
    image.info = {"transparency": image.info["transparency"]} if "transparency" in image.info else {}
    output = io.BytesIO()
    if source_format == "JPEG":
        image.save(output, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    elif source_format == "WEBP":
        image.save(output, format="WEBP", quality=WEBP_QUALITY)
    else:
        image.save(output, format=source_format)
    return CleanImage(output.getvalue(), extension, content_type, image.width, image.height)


def _upright(image: Image.Image) -> Image.Image:
    """A phone stores a photo sideways with an EXIF orientation; the re-encoded file has no EXIF, so turn it now."""
    try:
        return ImageOps.exif_transpose(image) or image
    except Exception:  # malformed EXIF (Pillow raises many kinds) only loses the turn, never the photo
        return image


def _in_srgb(image: Image.Image, source_format: str) -> Image.Image:
    """Pixels converted from the photo's colour profile (an iPhone's Display P3) to sRGB, since no profile is kept."""
    profile = image.info.get("icc_profile")
    if not profile or source_format == "GIF" or image.mode not in ("RGB", "RGBA", "CMYK", "L"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=output_mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image  # a broken profile: the pixels as they are


def _in_mode_for(image: Image.Image, source_format: str) -> Image.Image:
    """A pixel mode the output format writes and every browser shows."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    if source_format == "JPEG":
        return image if image.mode in ("RGB", "L") else image.convert("RGB")
    if source_format == "GIF":
        return image if image.mode in ("P", "L") else image.convert("RGBA" if has_alpha else "RGB").convert("P")
    if source_format == "PNG":
        return image if image.mode in ("1", "L", "LA", "P", "RGB", "RGBA") else image.convert("RGBA" if has_alpha else "RGB")
    return image if image.mode in ("RGB", "RGBA") else image.convert("RGBA" if has_alpha else "RGB")  # WebP


def image_content_type(name: str) -> str | None:
    """The image type of a stored picture from its extension (a name the server chose); None if it is not one."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return IMAGE_CONTENT_TYPES.get(extension)


def image_response(file, *, download_name: str) -> FileResponse:
    """A stored picture as a response that can only be shown as an image.

    Its content type is the stored format's; nosniff stops a browser guessing anything else; the picture's own
    Content-Security-Policy (replacing the site's, which allows our scripts) lets nothing load or run, and
    `sandbox` makes a document opened from it a unique origin with no scripts. A stored file whose name is not a
    picture's (a file from before issue 15 the migration could not move) is only ever offered as a download;
    a file missing from storage is a 404.
    """
    content_type = image_content_type(file.name)
    extension = file.name.rsplit(".", 1)[-1].lower() if content_type else "bin"
    try:
        opened = file.open("rb")
    except FileNotFoundError:
        raise Http404 from None  # the row names a file the storage lost: nothing to show, not a server error
    response = FileResponse(
        opened,
        content_type=content_type or "application/octet-stream",
        as_attachment=content_type is None,
        filename=f"{download_name}.{extension}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = IMAGE_CSP
    return response
