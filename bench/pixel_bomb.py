"""Pixel bombs against the one image intake: refused from the header, at a fraction of an honest photo's cost.

A pixel bomb is a small file whose header claims a huge picture (here 30000 × 30000 and 50000 × 50000, a PNG
that really decodes to that and a JPEG whose header only says so): decoded, it would take gigabytes. The
intake (kernel.images.image_intake) reads the size from the header and refuses before decoding anything.

Measured in the same run, as the baseline: a normal 4000 × 3000 phone photo through the intake and its
thumbnail (kernel.images.image_thumbnail), the work an accepted upload costs. Each bomb's refusal is timed
(best and median of many tries) and its peak memory is measured in a fresh subprocess, both as the growth of
the process's resident set (ru_maxrss) and tracemalloc's peak, so earlier work does not hide it.

Targets, exit status 1 when one is missed: a refusal takes under 1% of the baseline's time, and peak memory
grows by under 50 MB. Run: cd bench && SECRET_KEY=x ../.venv/bin/python pixel_bomb.py
"""

import io
import json
import os
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "practice_center.settings")
os.environ.setdefault("VAR_DIR", "/tmp/pixel_bomb_bench")
if not os.environ.get("ID_NUMBER_KEYS"):
    import base64
    import secrets

    os.environ["ID_NUMBER_KEYS"] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    os.environ["ID_NUMBER_HASH_KEY"] = secrets.token_urlsafe(32)

import django

django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.utils import translation  # noqa: E402
from PIL import Image  # noqa: E402

from kernel.errors import ApplicationError  # noqa: E402
from kernel.images import image_intake, image_thumbnail  # noqa: E402

TIME_TARGET = 0.01  # of the baseline
MEMORY_TARGET_MB = 50
BASELINE_ROUNDS = 3
BOMB_ROUNDS = 200


def photo_4000x3000() -> bytes:
    """A phone-like photo: a gradient under noise, so it compresses as a real one does (a few MB)."""
    size = (4000, 3000)
    gradient = Image.linear_gradient("L").resize(size).convert("RGB")
    noise = Image.effect_noise(size, 40).convert("RGB")
    buffer = io.BytesIO()
    Image.blend(gradient, noise, 0.35).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def png_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of `width` × `height`, all black, written row by row (zlib packs it ~1000:1)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def jpeg_bomb(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) is rewritten to claim `width` × `height`."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(buffer, format="JPEG")
    data = bytearray(buffer.getvalue())
    at = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, at + 5, height, width)
    return bytes(data)


BOMBS = {
    "PNG 30000×30000 (decodes to 900 MP)": lambda: png_bomb(30000, 30000),
    "JPEG header 30000×30000": lambda: jpeg_bomb(30000, 30000),
    "JPEG header 50000×50000": lambda: jpeg_bomb(50000, 50000),
}


def accept(data: bytes) -> None:
    cleaned = image_intake(SimpleUploadedFile("photo.jpg", data))
    image_thumbnail(cleaned)


def refuse(data: bytes) -> str:
    try:
        image_intake(SimpleUploadedFile("bomb.png", data))
    except ApplicationError as error:
        return str(error.message)
    raise SystemExit("error: a pixel bomb was accepted")


def timed(call, data: bytes, rounds: int) -> tuple[float, float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call(data)
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def child(kind: str, path: str) -> None:
    """In a fresh process: the memory one intake of the file at `path` costs, as the growth of the
    resident set's peak and tracemalloc's peak (the bytes are read before either is taken)."""
    data = Path(path).read_bytes()
    before = _reset_peak()
    tracemalloc.start()
    (accept if kind == "photo" else refuse)(data)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    after = _peak_kb()
    print(json.dumps({"rss_mb": (after - before) / 1024, "traced_mb": peak / 1024 / 1024}))


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> int:
    """The resident set now, with the kernel's peak (VmHWM) reset to it where Linux allows, so the peak
    read afterwards is this intake's and not the imports'. Elsewhere: ru_maxrss as it stands."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return _status_kb("VmRSS") or 0
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _peak_kb() -> int:
    return _status_kb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def memory_of(kind: str, data: bytes) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".upload") as upload:
        upload.write(data)
        upload.flush()
        command = [sys.executable, __file__, "--child", kind, upload.name]
        out = subprocess.run(command, capture_output=True, text=True, check=True, env=os.environ)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    translation.activate("en")
    photo = photo_4000x3000()
    accept(photo)  # warm up: the codecs' first use
    base_best, base_median = timed(accept, photo, BASELINE_ROUNDS)
    base_memory = memory_of("photo", photo)
    print(f"baseline: 4000×3000 JPEG ({len(photo) / 1e6:.1f} MB) through the intake + thumbnail")
    print(
        f"  best {base_best * 1000:.0f} ms, median {base_median * 1000:.0f} ms; "
        f"peak memory +{base_memory['rss_mb']:.0f} MB RSS, {base_memory['traced_mb']:.0f} MB traced"
    )
    missed = 0
    for name, make in BOMBS.items():
        data = make()
        message = refuse(data)
        best, median = timed(refuse, data, BOMB_ROUNDS)
        memory = memory_of("bomb", data)
        ratio = median / base_median
        grown = max(memory["rss_mb"], memory["traced_mb"])
        ok = ratio < TIME_TARGET and grown < MEMORY_TARGET_MB
        missed += not ok
        print(f"{name} ({len(data) / 1024:.0f} KB): refused with “{message}”")
        print(
            f"  best {best * 1e6:.0f} µs, median {median * 1e6:.0f} µs = {ratio:.4%} of the baseline "
            f"(target < {TIME_TARGET:.0%}); peak memory +{memory['rss_mb']:.1f} MB RSS, "
            f"{memory['traced_mb']:.1f} MB traced (target < {MEMORY_TARGET_MB} MB) "
            f"{'ok' if ok else 'MISSED'}"
        )
    if missed:
        print(f"error: {missed} pixel bomb(s) missed a target")
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        sys.exit(0)
    sys.exit(main())
