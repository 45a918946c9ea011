"""The one intake for uploaded images: every service that stores a photo passes it through `image_intake`.

An upload is untrusted bytes with a name the sender chose. The intake trusts neither: Pillow identifies the
real format from the content, the pixel count is checked from the header before anything is decoded, and
what gets stored is a fresh file encoded from the decoded pixels alone. Re-encoding is what makes the
rest safe: EXIF (GPS position, camera serial), XMP, ICC profiles, JPEG comments, and anything appended
after the end of the image (a PHP script behind a JPEG, the second picture of an MPO) are simply never
written, because nothing but pixels is carried over.

Services call it and store what it returns::

    content = image_intake(upload, field="image")
    photo.image.save(content.name, content, save=False)

and catch nothing: a refusal is an `ApplicationError` that names the field, which the API turns into a
400 and the admin into a form error.
"""

from __future__ import annotations

import contextlib
import io
import uuid
import warnings

from django.core.files.base import ContentFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from kernel.errors import ApplicationError

# The formats a browser shows everywhere and a phone produces. What comes in as one of them goes out as
# the same one, so a transparent PNG keeps its transparency and a photo is not inflated into a PNG.
# MPO is how Pillow names a JPEG that carries further pictures after the first (cameras, and phones for
# depth maps and HDR gain maps): it is a JPEG, and only its first picture is kept.
_OUTPUT_FORMAT = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP"}
# The only decoders ever run on an upload. (Pillow's JPEG decoder is the one that opens MPO files.)
_DECODERS = ["JPEG", "PNG", "WEBP"]
_EXTENSION = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
_CONTENT_TYPE = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# The modes each output format is written in, unchanged; anything else is converted first.
_KEPT_MODES = {"JPEG": {"L", "RGB"}, "PNG": {"L", "LA", "RGB", "RGBA"}, "WEBP": {"RGB", "RGBA"}}
# Quality 85 is where JPEG and WebP photos stop looking better but keep growing.
_SAVE_OPTIONS = {
    "JPEG": {"quality": 85, "optimize": True},
    "PNG": {"optimize": True},
    "WEBP": {"quality": 85},
}
_ALLOWED = "JPEG, PNG, WebP"


class IntakeImage(ContentFile):
    """The cleaned image, ready to assign to a FileField or ImageField (or to save to a storage).

    Its name is `<random hex>.<jpg|png|webp>`: the extension follows the real format, never the
    uploaded name. `width`, `height` and `format` ("JPEG", "PNG" or "WEBP") describe what is stored,
    after orientation and downscaling, so a caller can record them without opening the file again.
    """

    def __init__(self, content: bytes, *, width: int, height: int, format: str):
        super().__init__(content, name=f"{uuid.uuid4().hex}.{_EXTENSION[format]}")
        self.width = width
        self.height = height
        self.format = format

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPE[self.format]


def image_intake(
    upload,
    *,
    field: str = "image",
    max_bytes: int = 10 * 1024 * 1024,
    max_pixels: int = 40_000_000,
    max_side: int | None = 4096,
) -> IntakeImage:
    """Check an uploaded image and return a clean re-encoding of it, or raise ApplicationError(field=field).

    `upload` is a Django UploadedFile or any binary file-like object with `read` (and ideally `seek`).

    Refused: more than `max_bytes`; empty; not an image; an image in any format but JPEG, PNG or WebP,
    whatever its name says; more than `max_pixels` pixels (read from the header, before decoding, so a
    small file that would decode into gigabytes costs nothing); damaged or truncated.

    Accepted images are turned upright by their EXIF orientation (phones store photos sideways and only
    flag the rotation, and the flag goes with the rest of EXIF), scaled down so the longer side is at most
    `max_side` pixels when it is given (a 24-megapixel phone photo is far more than evidence needs, and
    4096 pixels still show a notice board legibly), and re-encoded in their own format without any
    metadata. Only the first frame of an animated PNG or WebP is kept.

    Memory: the decoded image takes up to 4 bytes a pixel, so `max_pixels` bounds what one upload can
    cost (160 MB at the default) as much as it bounds the file.
    """
    data = _read(upload, field=field, max_bytes=max_bytes)
    # Pillow's own decompression-bomb guard raises above twice its limit (179 MP) but between its limit
    # and that (89 to 179 MP) it only warns and carries on. Made an error here, the warning becomes the
    # same refusal as the rest instead of a log line. Our own, lower, limit is checked right after.
    # catch_warnings swaps the process-wide filter list and restores it on exit; two threads inside it at
    # once could leave this filter behind, which would only make Pillow stricter elsewhere, never laxer.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = _open_checked(data, field=field, max_pixels=max_pixels)
    output_format = _OUTPUT_FORMAT[image.format]
    with image:
        cleaned = _clean_pixels(image, output_format, max_side=max_side)
    buffer = io.BytesIO()
    cleaned.save(buffer, format=output_format, **_SAVE_OPTIONS[output_format])
    return IntakeImage(buffer.getvalue(), width=cleaned.width, height=cleaned.height, format=output_format)


def _read(upload, *, field: str, max_bytes: int) -> bytes:
    """The upload's bytes, reading at most one byte more than allowed however large the file is."""
    if (getattr(upload, "size", None) or 0) > max_bytes:
        raise _too_large(field, max_bytes)
    # A stream that cannot seek is read from where it is.
    with contextlib.suppress(AttributeError, OSError, ValueError):
        upload.seek(0)
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _too_large(field, max_bytes)
    if not data:
        raise ApplicationError(_("The file is empty."), field=field)
    return data


def _too_large(field: str, max_bytes: int) -> ApplicationError:
    return ApplicationError(
        _("An image may be at most %(limit)s.") % {"limit": filesizeformat(max_bytes)}, field=field
    )


def _too_many_pixels(field: str, max_pixels: int) -> ApplicationError:
    return ApplicationError(
        _("The image has too many pixels: at most %(limit)s megapixels are accepted; scale it down.")
        % {"limit": f"{max_pixels / 1_000_000:g}"},
        field=field,
    )


def _open_checked(data: bytes, *, field: str, max_pixels: int) -> Image.Image:
    """Identify, size-check, verify and decode the image; every failure is a refusal naming `field`.

    Pillow parsing hostile bytes can fail with almost any exception type (OSError, SyntaxError,
    struct.error, ValueError, EOFError...), and each of them means "not a usable image", never a server
    error; so the Pillow calls, and only they, are guarded broadly.
    """
    try:
        image = Image.open(io.BytesIO(data), formats=_DECODERS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(field, max_pixels) from None
    except Exception:
        raise _not_allowed(data, field) from None

    # Image.open has read the header only; the pixels are still undecoded.
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise _too_many_pixels(field, max_pixels)
    damaged = ApplicationError(_("The image is damaged or incomplete; upload it again."), field=field)
    if width < 1 or height < 1:
        image.close()
        raise damaged

    # verify() checks the structure (PNG chunk checksums) without decoding, and leaves the image unusable,
    # so it is opened again to decode: load() is what finds a JPEG cut short.
    try:
        image.verify()
    except Exception:
        raise damaged from None
    finally:
        image.close()
    try:
        image = Image.open(io.BytesIO(data), formats=_DECODERS)
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(field, max_pixels) from None
    except Exception:
        raise damaged from None
    return image


def _not_allowed(data: bytes, field: str) -> ApplicationError:
    """The refusal for bytes that are not an accepted image: it names the format when Pillow knows it."""
    try:
        # Header only, to name the format in the message; nothing of such a file is ever decoded.
        with Image.open(io.BytesIO(data)) as other:
            found = other.format
    except Exception:
        found = None
    if found in _OUTPUT_FORMAT:
        # Named as an accepted format by the same decoders that just failed on it: a damaged file.
        return ApplicationError(_("The image is damaged or incomplete; upload it again."), field=field)
    if found:
        return ApplicationError(
            _("%(format)s images are not accepted; upload a photo in one of these formats: %(allowed)s.")
            % {"format": found, "allowed": _ALLOWED},
            field=field,
        )
    return ApplicationError(
        _("This file is not an image; upload a photo in one of these formats: %(allowed)s.")
        % {"allowed": _ALLOWED},
        field=field,
    )


def _clean_pixels(image: Image.Image, output_format: str, *, max_side: int | None) -> Image.Image:
    """The image upright, downscaled, in a mode the output format writes, and with no metadata at all."""
    # Always a new image (a copy when there is nothing to turn), so the opened file is left alone.
    upright = ImageOps.exif_transpose(image)
    upright = _convert_mode(upright, output_format)
    if max_side and max(upright.size) > max_side:
        upright.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    # The pixels are all that goes on: info holds EXIF, XMP, ICC profile, JPEG comment, PNG text chunks,
    # and Pillow's encoders copy some of them (the JPEG comment, a PNG's ICC profile) by default.
    upright.info = {}
    return upright


def _convert_mode(image: Image.Image, output_format: str) -> Image.Image:
    # Transparency that lives in info (a palette entry, or one colour of an RGB or grey PNG) would be
    # lost with info; converting to RGBA turns it into an alpha channel first.
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    if image.mode in _KEPT_MODES[output_format] and "transparency" not in image.info:
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit grey: convert() would clip every value above 255 to white; scale to 8 bits instead.
        image = image.convert("I").point(lambda value: value / 256).convert("L")
        return image if output_format != "WEBP" else image.convert("RGB")
    if output_format == "JPEG":
        # JPEG has no transparency; CMYK and other modes are written as RGB, which every viewer shows.
        return image.convert("RGB")
    if image.mode in ("1", "L") and not has_alpha:
        return image.convert("L" if output_format == "PNG" else "RGB")
    return image.convert("RGBA" if has_alpha else "RGB")


# A thumbnail's longer side: a phone's list of photos shows them at most about 240 CSS pixels wide, and
# twice that serves a 2x screen.
THUMBNAIL_SIDE = 480


def image_thumbnail(image, *, side: int = THUMBNAIL_SIDE) -> ContentFile:
    """A JPEG thumbnail, the longer side at most `side` pixels, of an image the intake has already cleaned.

    `image` is what `image_intake` returned (or a stored file of it, or its bytes): only images this
    process encoded itself are decoded here, never an upload. Transparency is laid on white, as JPEG has
    none. The name is `<random hex>.jpg`.
    """
    if isinstance(image, (bytes, bytearray)):
        data = bytes(image)
    else:
        with contextlib.suppress(AttributeError, OSError, ValueError):
            image.seek(0)
        data = image.read()
    with Image.open(io.BytesIO(data), formats=_DECODERS) as opened:
        # A JPEG is decoded at 1/2, 1/4 or 1/8 scale when that is still larger than the thumbnail: an
        # eighth of the work for a large photo.
        opened.draft("RGB", (side, side))
        small = opened.convert("RGBA") if "A" in opened.getbands() or "transparency" in opened.info else None
        if small is not None:
            background = Image.new("RGB", small.size, "white")
            background.paste(small, mask=small.getchannel("A"))
            small = background
        else:
            small = opened.convert("RGB")
    small.thumbnail((side, side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    small.save(buffer, format="JPEG", quality=80, optimize=True)
    return ContentFile(buffer.getvalue(), name=f"{uuid.uuid4().hex}.jpg")
