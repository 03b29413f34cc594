"""Department and site names as a person means them: one name however the keyboard wrote it.

`normalised_name` applies Unicode NFKC (full-width letters, ligatures and non-breaking spaces
become their plain forms), removes invisible format characters (zero-width spaces and joiners,
the byte-order mark, bidirectional controls: Unicode category Cf), and reads a name that mixes
Latin letters with Cyrillic or Greek look-alikes (a Cyrillic "о" in "Education") as the Latin name,
with a warning, so that it does not become a department of its own.
"""

from __future__ import annotations

import unicodedata

#: Cyrillic and Greek letters that look like Latin ones, and the Latin letter each is read as
#: (the single-letter Latin prototypes of Unicode Technical Standard #39, confusables.txt).
LOOK_ALIKES = {
    # Cyrillic
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
    "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
    "У": "Y", "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S", "Һ": "h",
    # Greek
    "ο": "o", "ν": "v", "ρ": "p", "ι": "i", "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I",
    "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
}
_TO_LATIN = str.maketrans(LOOK_ALIKES)


def _is_latin_letter(character: str) -> bool:
    return character.isalpha() and unicodedata.name(character, "").startswith("LATIN")


def normalised_name(text: str) -> tuple[str, str]:
    """A name trimmed, in NFKC form, without format characters, and with look-alike letters read as
    Latin when the name mixes them with Latin letters; and a warning when that last step changed it
    ("" otherwise)."""
    if text.isascii():  # NFKC leaves ASCII as it is, and ASCII holds no format character or look-alike
        return text.strip(), ""
    plain = "".join(character for character in unicodedata.normalize("NFKC", text)
                    if unicodedata.category(character) != "Cf").strip()
    look_alikes = sorted({character for character in plain if character in LOOK_ALIKES})
    if not look_alikes or not any(_is_latin_letter(character) for character in plain):
        return plain, ""
    latin = plain.translate(_TO_LATIN)
    letters = ", ".join(f"{character} ({unicodedata.name(character).title()})" for character in look_alikes)
    return latin, (f"'{plain}' mixes Latin letters with look-alike letters of another alphabet ({letters}): "
                   f"read as '{latin}'; correct the name in the return")
