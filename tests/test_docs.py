"""The repository stands on its own: it carries its design document and points to nothing outside it."""

import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
DESIGN = BASE_DIR / "docs" / "DESIGN.md"
APPS = ("kernel", "stations", "volunteers", "projects", "activities")

# Built from pieces so that this file does not match itself.
OUTSIDE = tuple("".join(parts) for parts in (("..", "/shared"), ("shared", "/DESIGN"), ("shared", "/STYLE")))


def _repository_files() -> list[Path]:
    """Every file git tracks, and the new ones it does not ignore (they are about to be committed)."""
    result = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=BASE_DIR,
        capture_output=True,
        check=False,
        timeout=60,
    )
    if result.returncode != 0:
        pytest.skip(f"not a git checkout: {result.stderr.decode(errors='replace').strip()}")
    names = sorted({name for name in result.stdout.decode().split("\0") if name})
    return [BASE_DIR / name for name in names]


def _text(path: Path) -> str | None:
    """The file's text, or None for a binary (or vanished) file."""
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


@pytest.mark.smoke
def test_nothing_in_the_repository_points_outside_it():
    files = _repository_files()
    assert files
    offenders = []
    for path in files:
        text = _text(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if any(needle in line for needle in OUTSIDE):
                offenders.append(f"{path.relative_to(BASE_DIR)}:{number}: {line.strip()}")
    assert not offenders, "points outside the repository:\n" + "\n".join(offenders)


@pytest.mark.smoke
def test_the_design_document_is_linked_from_the_readme_and_covers_every_app():
    assert DESIGN.is_file(), "docs/DESIGN.md is missing"
    readme = (BASE_DIR / "README.md").read_text(encoding="utf-8")
    assert "](docs/DESIGN.md)" in readme, "README.md does not link docs/DESIGN.md"
    design = DESIGN.read_text(encoding="utf-8")
    missing = [app for app in APPS if not re.search(rf"`{app}`", design)]
    assert not missing, f"docs/DESIGN.md does not mention the apps {missing}"
