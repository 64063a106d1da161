from __future__ import annotations

import pytest

from parley.mentions import MAX_MENTIONS, mentioned_names


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("hi @Bob", ["bob"]),
        ("@alice and @bob_2, @alice again", ["alice", "bob_2"]),
        ("thanks @bob.", ["bob.", "bob"]),
        ("ask @a.b-c", ["a.b-c"]),
        ("mail me at carol@example.com", []),
        ("@@bob", []),
        ("@ab is too short, @" + "x" * 33 + " too long", []),
        ("`@bob` in code, and ```\n@carol\n``` too, but @dave", ["dave"]),
        ("unclosed ``` @erin", []),
        ("(@frank)", ["frank"]),
        ("", []),
    ],
)
def test_names_a_text_mentions(text: str, names: list[str]) -> None:
    assert mentioned_names(text) == names


def test_a_text_naming_many_people_looks_up_at_most_the_first_ones() -> None:
    text = " ".join(f"@user{i:03}" for i in range(MAX_MENTIONS * 3))
    assert mentioned_names(text) == [f"user{i:03}" for i in range(MAX_MENTIONS)]
