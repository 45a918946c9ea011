"""The skip of tests that need the CJK TrueType font the certificates embed (Debian: fonts-wqy-microhei,
which .ci/run installs); without it they say so, as the browser tests do without Chromium."""

import pytest

from records import pdf

needs_cjk_font = pytest.mark.skipif(
    not pdf.font_available(),
    reason="needs the CJK font of certificates: apt-get install fonts-wqy-microhei (.ci/run installs it)",
)
