"""A long-running worker's next cycle writes with the templates as they are on disk now."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from assistant.letters.render import renderer_for

ROOT = Path(__file__).resolve().parents[2]


def _touch_later(path: Path) -> None:
    stat = path.stat()
    os.utime(path, (stat.st_atime + 10, stat.st_mtime + 10))


def test_an_edited_partial_or_letter_is_compiled_again(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", folder)
    layout = "fr/_layout.html.j2"
    first = renderer_for(folder)
    before = first.template(layout)
    assert renderer_for(folder).template(layout) is before  # unchanged: compiled once

    partial = folder / "letters" / "fr" / "partials" / "payment.html.j2"
    partial.write_text(partial.read_text(encoding="utf-8") + "<p>NOUVEAU RIB</p>\n", "utf-8")
    _touch_later(partial)
    assert not before.is_up_to_date  # a partial pasted into the letter changed
    after = renderer_for(folder).template(layout)
    assert after is not before and after.is_up_to_date
    assert renderer_for(folder).template(layout) is after
