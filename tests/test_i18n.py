"""The Chinese catalogue is complete, compiled, and up to date with the source."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

PO = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _entries(path):
    return {(e.msgctxt, e.msgid, e.msgid_plural) for e in polib.pofile(str(path)) if not e.obsolete}


@pytest.mark.smoke
def test_every_message_is_translated_and_compiled():
    po = polib.pofile(str(PO))
    assert po.percent_translated() == 100, [e.msgid for e in po.untranslated_entries()]
    assert not po.fuzzy_entries(), [e.msgid for e in po.fuzzy_entries()]
    mo = polib.mofile(str(PO.with_suffix(".mo")))
    # Keyed by context and message, as gettext looks them up: "checked in" is a column and a count.
    assert {(e.msgctxt, e.msgid): e.msgstr for e in mo if not e.msgid_plural} == {
        (e.msgctxt, e.msgid): e.msgstr for e in po.translated_entries() if not e.msgid_plural
    }, "django.mo is stale: run `manage.py compilemessages -l zh_Hans --ignore=.venv`"


def test_default_language_is_chinese():
    assert settings.LANGUAGE_CODE == "zh-hans" and settings.TIME_ZONE == "Asia/Shanghai"
    from stations.models import Unit

    with translation.override("zh-hans"):
        assert str(Unit._meta.verbose_name) == "单位"
    with translation.override("en"):
        assert str(Unit._meta.verbose_name) == "unit"


@pytest.mark.skipif(not shutil.which("xgettext"), reason="needs GNU gettext (xgettext) to extract messages")
def test_catalogue_covers_every_marked_string(tmp_path):
    """Extract afresh into a copy of the sources: nothing marked for translation may be missing."""
    base = Path(settings.BASE_DIR)
    copy = tmp_path / "src"
    ignore = shutil.ignore_patterns(
        ".venv", "var", "test-results", ".git", "node_modules", "__pycache__", "static"
    )
    shutil.copytree(base, copy, ignore=ignore)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--ignore=.venv", "--no-obsolete"],
        cwd=copy,
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "VAR_DIR": str(tmp_path / "var")},
    )
    fresh = _entries(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    missing = {entry[1] for entry in fresh - _entries(PO)}
    assert not missing, f"strings not in the catalogue, run makemessages and translate: {sorted(missing)}"


def test_no_module_hides_a_translation_function_behind_another_name():
    """makemessages finds strings only in calls to `_`, gettext, gettext_lazy, ngettext … under their own
    names: `gettext as _gettext` would leave every string of that module untranslated, unnoticed."""
    root = Path(settings.BASE_DIR)
    allowed = {"_"}
    hidden = []
    for path in root.glob("*/**/*.py"):
        if ".venv" in path.parts or "var" in path.parts[:1]:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            stripped = line.strip()
            if stripped.startswith("from django.utils.translation import") and " as " in stripped:
                aliases = {
                    part.split(" as ")[1].strip(" ,()") for part in stripped.split(",") if " as " in part
                }
                if aliases - allowed:
                    hidden.append(f"{path.relative_to(root)}:{number}")
    assert not hidden, hidden
