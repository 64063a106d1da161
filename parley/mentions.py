"""`@name` mentions in a message's text: which usernames a text calls. Whether each is a member
of the room (and so is mentioned) is the caller's question to ask."""

from __future__ import annotations

import re

# At most this many different names are looked up per message: a text naming more mentions
# only the first ones (a list of 50 people is a broadcast, not a mention).
MAX_MENTIONS = 20

# Code is quoted, not addressed: `@name` inside a code span or block mentions nobody.
_CODE = re.compile(r"```.*?(?:```|\Z)|`[^`\n]*`", re.DOTALL)
# A username (3-32 of letters, digits, "_", ".", "-") after an "@" that does not follow a word
# character, so an e-mail address mentions nobody.
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_.-]{3,32})(?![A-Za-z0-9_@])")


def mentioned_names(text: str) -> list[str]:
    """The lower-cased names a text mentions, in order of first mention, without repeats. A
    name followed by sentence punctuation ("thanks @bob.") is read without it too, since
    usernames may end in "." or "-"."""
    names: dict[str, None] = {}
    for match in _MENTION.finditer(_CODE.sub(" ", text)):
        name = match.group(1).lower()
        for candidate in (name, name.rstrip(".-")):
            if len(candidate) >= 3:
                names.setdefault(candidate)
        if len(names) >= MAX_MENTIONS:
            break
    return list(names)[:MAX_MENTIONS]
