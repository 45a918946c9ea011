"""The image intake against real files: every fixture is drawn with Pillow (or assembled byte by byte) here.

What a hostile or careless upload looks like is spelled out in each test: a photo that gives away where
it was taken, a small PNG that decodes into gigabytes, a GIF or a script behind a .jpg name.
"""

import io
import struct
import zlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import translation
from PIL import ExifTags, Image

from kernel.errors import ApplicationError
from kernel.files import delete_file_on_commit
from kernel.images import IntakeImage, image_intake, image_thumbnail

pytestmark = pytest.mark.smoke

PHP = b"<?php system($_GET['c']); ?>"
RED, BLUE = (220, 20, 20), (20, 20, 220)

NOT_AN_IMAGE = "This file is not an image; upload a photo in one of these formats: JPEG, PNG, WebP."
DAMAGED = "The image is damaged or incomplete; upload it again."
TOO_MANY_PIXELS = "The image has too many pixels: at most 40 megapixels are accepted; scale it down."


@pytest.fixture(autouse=True)
def _english():
    # The site speaks Chinese by default; the English msgids are what these tests read.
    with translation.override("en"):
        yield


def _encode(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def _upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def _reopen(result: ContentFile) -> Image.Image:
    result.seek(0)
    return Image.open(io.BytesIO(result.read()))


def _refusal(data: bytes, name: str, **options) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        image_intake(_upload(data, name), **options)
    return caught.value


def _png_of_one_colour(width: int, height: int, *, bit_depth: int = 8) -> bytes:
    """A valid greyscale PNG, all black, written chunk by chunk without ever holding its pixels.

    This is how such a file is made to hurt: zlib squeezes a long run of zeros about a thousandfold,
    so 12000 x 12000 grey pixels (144 MB decoded, far more once Pillow converts them) fit in ~140 KB.
    """

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, 0)  # colour type 0: grey
    row = b"\x00" * (1 + (width * bit_depth + 7) // 8)  # filter byte "none", then the row's pixels
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _photo_with_gps() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Phone 12"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (26.0, 47.0, 24.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (117.0, 48.0, 36.0)
    return _encode(Image.new("RGB", (64, 48), (90, 140, 60)), "JPEG", exif=exif)


# --- metadata, orientation, appended data ------------------------------------------------------------


def test_a_photo_loses_its_gps_position_and_all_other_exif():
    data = _photo_with_gps()
    with Image.open(io.BytesIO(data)) as original:  # the fixture really carries the position
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitude] == (
            26.0,
            47.0,
            24.0,
        )

    result = image_intake(_upload(data))

    stored = result.read()
    assert b"Exif" not in stored and b"PhoneMaker" not in stored
    with _reopen(result) as image:
        assert image.format == "JPEG" and image.size == (64, 48)
        assert "exif" not in image.info
        assert not image.getexif()
        assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)


def test_a_sideways_photo_is_turned_upright_by_its_exif_orientation():
    # Stored landscape, 80 x 40, red in the top-left quarter; orientation 6 means "turn 90° clockwise
    # to show". Upright it is portrait, 40 x 80, and the red quarter is at the top right.
    image = Image.new("RGB", (80, 40), BLUE)
    image.paste(RED, (0, 0, 40, 20))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6

    result = image_intake(_upload(_encode(image, "JPEG", exif=exif, quality=95)))

    assert (result.width, result.height) == (40, 80)
    with _reopen(result) as upright:
        assert upright.size == (40, 80)
        assert not upright.getexif()  # the orientation flag went too: no viewer turns it a second time
        rgb = upright.convert("RGB")
        assert _close(rgb.getpixel((30, 10)), RED)
        assert _close(rgb.getpixel((5, 10)), BLUE)
        assert _close(rgb.getpixel((30, 70)), BLUE)


def _close(pixel, colour, tolerance=30):
    # JPEG changes colours a little; a quarter turned the wrong way would be off by ~200.
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def test_a_script_appended_to_a_jpeg_is_not_stored():
    data = _encode(Image.new("RGB", (32, 32), RED), "JPEG") + PHP
    assert Image.open(io.BytesIO(data)).format == "JPEG"  # Pillow reads it as a JPEG, script and all

    result = image_intake(_upload(data))

    assert b"<?php" not in result.read()


def test_a_script_in_a_jpeg_comment_is_not_stored():
    # Pillow copies a JPEG's comment segment into what it saves unless told otherwise.
    data = _encode(Image.new("RGB", (32, 32), RED), "JPEG", comment=PHP)
    assert PHP in data

    assert b"<?php" not in image_intake(_upload(data)).read()


def test_a_gif_with_a_script_named_like_a_jpeg_is_refused_as_a_gif():
    data = _encode(Image.new("P", (16, 16)), "GIF") + PHP

    error = _refusal(data, "photo.jpg", field="photo")

    assert error.field == "photo"
    assert error.message == (
        "GIF images are not accepted; upload a photo in one of these formats: JPEG, PNG, WebP."
    )


def test_an_mpo_from_a_phone_is_kept_as_its_first_picture_only():
    # Cameras, and phones for depth maps and HDR gain maps, append further JPEG pictures (MPO).
    first, second = Image.new("RGB", (48, 32), RED), Image.new("RGB", (48, 32), BLUE)
    data = _encode(first, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(data)).format == "MPO"

    result = image_intake(_upload(data))

    with _reopen(result) as image:
        assert image.format == "JPEG" and getattr(image, "n_frames", 1) == 1
        assert _close(image.getpixel((10, 10)), RED)


# --- pixel limits, before decoding -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height", "bit_depth"),
    [
        (8000, 6000, 8),  # 48 MP: over our limit, under Pillow's; refused by our header check
        (12000, 12000, 8),  # 144 MP: also over Pillow's warning threshold (89 MP)
        (20000, 10000, 1),  # 200 MP: over Pillow's hard limit (179 MP), which raises inside open()
    ],
)
def test_an_image_with_too_many_pixels_is_refused_from_its_header(width, height, bit_depth, recwarn):
    data = _png_of_one_colour(width, height, bit_depth=bit_depth)
    assert len(data) < 300 * 1024  # small on disk: only the pixel count gives it away
    images_made = Image.core.get_stats()["new_count"]

    error = _refusal(data, "plan.png", field="photo")

    assert (error.message, error.field) == (TOO_MANY_PIXELS, "photo")
    # Pillow counts every image memory it creates: none was, so nothing was decoded.
    assert Image.core.get_stats()["new_count"] == images_made
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]


def test_pillow_image_counter_does_count_a_decode():
    # Keeps the check above honest: an accepted image does move the counter it relies on.
    images_made = Image.core.get_stats()["new_count"]
    image_intake(_upload(_png_of_one_colour(300, 200), "plan.png"))
    assert Image.core.get_stats()["new_count"] > images_made


def test_the_pixel_limit_is_the_callers():
    data = _encode(Image.new("RGB", (100, 100), RED), "PNG")

    error = _refusal(data, "x.png", max_pixels=5_000)

    assert error.message == (
        "The image has too many pixels: at most 0.005 megapixels are accepted; scale it down."
    )
    assert image_intake(_upload(data, "x.png"), max_pixels=10_000).format == "PNG"


def test_a_large_image_is_scaled_down_to_max_side():
    data = _encode(Image.new("RGB", (400, 200), RED), "JPEG")

    result = image_intake(_upload(data), max_side=100)

    assert (result.width, result.height) == (100, 50)
    with _reopen(result) as image:
        assert image.size == (100, 50)
    unscaled = image_intake(_upload(data), max_side=None)
    assert (unscaled.width, unscaled.height) == (400, 200)


# --- what is not an acceptable image -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("x.png", b"These are the minutes of the meeting, not a picture.\n", NOT_AN_IMAGE),
        ("x.jpg", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", NOT_AN_IMAGE),
        (
            "x.png",
            b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>',
            NOT_AN_IMAGE,
        ),
        (
            "x.jpg",
            b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
            NOT_AN_IMAGE,
        ),
        ("x.jpg", b"", "The file is empty."),
    ],
    ids=["text", "html", "svg", "pdf", "empty"],
)
def test_a_file_that_is_no_image_is_refused(name, data, message):
    error = _refusal(data, name, field="evidence")

    assert (error.message, error.field) == (message, "evidence")


@pytest.mark.parametrize("format", ["BMP", "TIFF", "GIF"])
def test_an_image_in_another_format_is_refused_by_name(format):
    data = _encode(Image.new("RGB", (16, 16), RED), format)

    error = _refusal(data, "photo.jpg", field="photo")

    assert error.field == "photo"
    assert error.message == (
        f"{format} images are not accepted; upload a photo in one of these formats: JPEG, PNG, WebP."
    )


def test_a_truncated_jpeg_is_refused():
    whole = _encode(Image.effect_noise((200, 200), 60).convert("RGB"), "JPEG")

    error = _refusal(whole[: len(whole) // 2], "photo.jpg", field="photo")

    assert (error.message, error.field) == (DAMAGED, "photo")


@pytest.mark.parametrize("damage", ["pixel data", "checksum"])
def test_a_damaged_png_is_refused(damage):
    data = bytearray(_encode(Image.new("RGB", (16, 16), RED), "PNG"))
    start = data.index(b"IDAT") + 4
    (length,) = struct.unpack(">I", data[start - 8 : start - 4])
    # Changed pixel data fails to decompress; a changed checksum over intact data decodes fine and is
    # only found by verify(), which reads every chunk's checksum.
    data[start + 2 if damage == "pixel data" else start + length] ^= 0xFF

    error = _refusal(bytes(data), "x.png", field="photo")

    assert (error.message, error.field) == (DAMAGED, "photo")


def test_a_file_over_max_bytes_is_refused_without_reading_it_all():
    data = _encode(Image.effect_noise((200, 200), 60).convert("RGB"), "PNG")
    assert len(data) > 20_000

    error = _refusal(data, "x.png", field="photo", max_bytes=20_000)
    assert (error.message, error.field) == ("An image may be at most 19.5\xa0KB.", "photo")

    # A plain stream has no size to trust: it is read up to one byte past the limit and refused then.
    stream = io.BytesIO(data)
    with pytest.raises(ApplicationError) as caught:
        image_intake(stream, field="photo", max_bytes=20_000)
    assert caught.value.message == "An image may be at most 19.5\xa0KB."
    assert stream.tell() == 20_001


# --- what comes out ----------------------------------------------------------------------------------


def test_the_stored_name_follows_the_real_format_and_transparency_survives():
    image = Image.new("RGBA", (20, 20), (0, 0, 0, 0))
    image.paste((*RED, 255), (0, 0, 10, 20))

    result = image_intake(_upload(_encode(image, "PNG"), "photo.jpg"))

    assert isinstance(result, IntakeImage) and isinstance(result, ContentFile)
    assert result.name.endswith(".png") and "photo" not in result.name
    assert (result.format, result.content_type) == ("PNG", "image/png")
    with _reopen(result) as stored:
        assert stored.format == "PNG" and stored.mode == "RGBA"
        assert stored.getpixel((15, 5))[3] == 0
        assert stored.getpixel((5, 5)) == (*RED, 255)


def test_a_palette_png_keeps_its_transparent_colour():
    image = Image.new("P", (20, 20), 0)
    image.putpalette([*RED, *BLUE])
    image.paste(1, (10, 0, 20, 20))

    result = image_intake(_upload(_encode(image, "PNG", transparency=1), "x.png"))

    with _reopen(result) as stored:
        rgba = stored.convert("RGBA")
        assert rgba.getpixel((5, 5)) == (*RED, 255)
        assert rgba.getpixel((15, 5))[3] == 0


def test_a_webp_stays_a_webp_with_its_alpha():
    image = Image.new("RGBA", (20, 20), (*BLUE, 255))
    image.paste((0, 0, 0, 0), (10, 0, 20, 20))

    result = image_intake(_upload(_encode(image, "WEBP", lossless=True), "x.webp"))

    assert result.name.endswith(".webp") and result.format == "WEBP"
    with _reopen(result) as stored:
        assert stored.format == "WEBP" and stored.mode == "RGBA"
        assert stored.getpixel((15, 5))[3] == 0


def test_a_cmyk_jpeg_is_stored_as_rgb():
    data = _encode(Image.new("CMYK", (20, 20), (0, 255, 255, 0)), "JPEG")  # cyan and magenta off: red

    result = image_intake(_upload(data))

    with _reopen(result) as stored:
        assert stored.mode == "RGB"
        assert stored.getpixel((10, 10))[0] > 200 and stored.getpixel((10, 10))[2] < 60


def test_a_16_bit_grey_png_keeps_its_tones():
    # convert() alone would clip every 16-bit value above 255 to white.
    data = _encode(Image.new("I;16", (20, 20), 32768), "PNG")

    result = image_intake(_upload(data, "scan.png"))

    with _reopen(result) as stored:
        assert stored.mode == "L" and stored.getpixel((5, 5)) == 128


def test_the_icc_profile_and_text_chunks_of_a_png_are_dropped():
    from PIL import ImageCms, PngImagePlugin

    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "taken at the village committee, 26.79N 117.81E")
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = _encode(Image.new("RGB", (20, 20), RED), "PNG", pnginfo=text, icc_profile=profile)

    result = image_intake(_upload(data, "x.png"))

    stored = result.read()
    assert b"village" not in stored and b"iCCP" not in stored and b"tEXt" not in stored


# --- old files go with the transaction ---------------------------------------------------------------


@pytest.fixture
def storage(tmp_path):
    return FileSystemStorage(location=tmp_path)


@pytest.mark.django_db(transaction=True)
def test_an_old_file_is_deleted_when_the_change_commits(storage):
    name = storage.save("old.jpg", ContentFile(b"old photo"))

    with transaction.atomic():
        delete_file_on_commit(storage, name)
        assert storage.exists(name)  # still there while the change may yet be rolled back

    assert not storage.exists(name)


@pytest.mark.django_db(transaction=True)
def test_an_old_file_is_kept_when_the_change_rolls_back(storage):
    name = storage.save("old.jpg", ContentFile(b"old photo"))

    with pytest.raises(RuntimeError), transaction.atomic():
        delete_file_on_commit(storage, name)
        raise RuntimeError("the replacement failed")

    assert storage.exists(name)


@pytest.mark.django_db(transaction=True)
def test_an_old_file_is_kept_when_only_the_inner_savepoint_rolls_back(storage):
    name = storage.save("old.jpg", ContentFile(b"old photo"))

    with transaction.atomic():
        try:
            with transaction.atomic():
                delete_file_on_commit(storage, name)
                raise RuntimeError("the replacement failed")
        except RuntimeError:
            pass

    assert storage.exists(name)


@pytest.mark.django_db(transaction=True)
def test_a_missing_or_empty_name_is_no_error(storage):
    with transaction.atomic():
        delete_file_on_commit(storage, "never-stored.jpg")
        delete_file_on_commit(storage, "")
        delete_file_on_commit(storage, None)


@pytest.mark.django_db(transaction=True)
def test_a_failing_storage_does_not_undo_the_committed_change(storage, caplog):
    # A real refusal by the storage: FileSystemStorage will not touch a path outside its folder.
    with transaction.atomic():
        delete_file_on_commit(storage, "../outside.jpg")

    assert "Could not delete the replaced file ../outside.jpg" in caplog.text


# --- Thumbnails ---------------------------------------------------------------------------------------


def test_a_thumbnail_is_a_small_jpeg_of_the_cleaned_photo():
    cleaned = image_intake(_upload(_photo_with_gps()))
    thumbnail = image_thumbnail(cleaned, side=64)
    assert thumbnail.name.endswith(".jpg") and len(thumbnail.name) == 36
    small = _reopen(thumbnail)
    assert small.format == "JPEG" and max(small.size) == 64
    assert small.size[0] / small.size[1] == pytest.approx(cleaned.width / cleaned.height, rel=0.05)
    assert not small.getexif()


def test_a_large_photo_thumbnail_keeps_its_proportions_and_a_transparent_png_is_laid_on_white():
    cleaned = image_intake(_upload(_encode(Image.new("RGB", (2000, 1000), RED), "JPEG")))
    assert _reopen(image_thumbnail(cleaned)).size == (480, 240)
    clear = Image.new("RGBA", (100, 50), (0, 0, 0, 0))
    thumbnail = _reopen(image_thumbnail(image_intake(_upload(_encode(clear, "PNG"), "a.png"))))
    assert thumbnail.mode == "RGB" and _close(thumbnail.getpixel((10, 10)), (255, 255, 255))
