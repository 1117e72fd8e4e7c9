"""The media files a note's fields refer to, found the way Anki's media check finds them."""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

# Anki's references: an img/audio/video/object tag's src (or data), and [sound:name]. Each pattern is
# linear: a tag stops at the next '<' and a sound name at the next '[' or ']', so a field full of
# unclosed "<img " or "[sound:" cannot make the scan quadratic.
_TAG = re.compile(r"""<(?:img|audio|video|object)\b(?:[^<>"']|"[^"<]*"|'[^'<]*')*>""", re.IGNORECASE)
_SRC = re.compile(r"""(?<=\s)(?:src|data)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
_SOUND = re.compile(r"\[sound:([^\[\]]+)\]")
# http:, https:, data: and protocol-relative URLs are not files in the media folder.
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.\-]*:|//)", re.IGNORECASE)


def media_references(fields: tuple[str, ...]) -> list[str]:
    """The local media file names `fields` refer to, entities decoded, in order of appearance, once each."""
    found: dict[str, None] = {}
    for text in fields:
        if "<" in text:
            for tag in _TAG.finditer(text):
                for match in _SRC.finditer(tag.group()):
                    found[html.unescape(match.group(1) or match.group(2) or match.group(3) or "")] = None
        if "[sound:" in text:
            for match in _SOUND.finditer(text):
                found[html.unescape(match.group(1))] = None
    return [name for name in found if name and not _REMOTE.match(name)]


def missing_media(fields: tuple[str, ...], present: dict) -> list[str]:
    """The files `fields` refer to that `present` lacks, under their name as written or percent-decoded."""
    return [name for name in media_references(fields) if name not in present and unquote(name) not in present]
