"""Text faults in returns (issue #16, class 9): a byte that is not UTF-8 in a UTF-8 file rejects its
row and leaves the rest of the file as written; department and site names are read in NFKC form
without invisible characters, and a name mixing Latin with look-alike Cyrillic or Greek letters is
read as the Latin name, with a warning, instead of becoming a department of its own."""

import pytest

from conftest import HEADER, gas_row, write_rows
from sefton_carbon import compute_inventory
from sefton_carbon.io.names import normalised_name
from sefton_carbon.returns.activity import NOT_UTF8_REASON, read_activity
from sefton_carbon.returns.collection import validate_returns


def utf8_file_with_a_bad_byte(path, rows: int, bad_row: int):
    """A UTF-8 return of ``rows`` rows whose departments say 'Café Services'; row ``bad_row`` (1 is
    the first data row) has its 'é' written as the single Windows-1252 byte 0xE9."""
    lines = [",".join(HEADER).encode()]
    for number in range(1, rows + 1):
        department = "Caf\xe9 Services".encode("cp1252" if number == bad_row else "utf-8")
        lines.append(department + f",Town Hall,natural_gas,{100 + number},kWh,2023-04-01,2023-04-30,actual,"
                     .encode())
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.mark.parametrize("bad_row", [3, 2900], ids=["in the first 64 KiB", "after the first 64 KiB"])
def test_a_bad_byte_rejects_its_row_and_the_rest_stays_utf8(tmp_path, bad_row):
    path = utf8_file_with_a_bad_byte(tmp_path / "cafe.csv", 3000, bad_row)
    assert path.stat().st_size > 65536 * 2
    data = read_activity(path)
    assert len(data.rows) == 2999 and set(data.rows["department"]) == {"Café Services"}
    rejected = data.rejected.iloc[0]
    assert (rejected["source_row"], rejected["column"], rejected["reason"]) == (bad_row + 1, "department",
                                                                                NOT_UTF8_REASON)


def test_a_windows_1252_file_is_still_read_as_windows_1252(tmp_path):
    path = tmp_path / "ansi.csv"
    path.write_bytes((",".join(HEADER) + "\n" + ",".join(map(str, gas_row(department="Café Services")))
                      + "\n").encode("cp1252"))
    data = read_activity(path)
    assert data.rejected.empty and list(data.rows["department"]) == ["Café Services"]


def test_names_are_normalised_and_look_alikes_read_as_latin_with_a_warning(tmp_path):
    path = write_rows(tmp_path / "names.csv", [
        gas_row(department="Education", start="2023-04-01", end="2023-04-30"),
        gas_row(department="Educati\u043en", start="2023-05-01", end="2023-05-31"),     # Cyrillic o
        gas_row(department="\uff25ducation", start="2023-06-01", end="2023-06-30"),     # full-width E
        gas_row(department="Edu\u200bcation\u202c", start="2023-07-01", end="2023-07-31"),  # zero-width, bidi
        gas_row(department="\u041c\u043e\u0441\u043a\u0432\u0430", start="2023-08-01", end="2023-08-31")])
    data = read_activity(path)
    assert list(data.rows["department"]) == ["Education"] * 4 + ["\u041c\u043e\u0441\u043a\u0432\u0430"]
    warnings = list(data.rows["name_warning"])
    assert warnings[0] == warnings[2] == warnings[3] == warnings[4] == ""
    assert warnings[1].startswith("'Educati\u043en' mixes Latin letters with look-alike letters of another "
                                  "alphabet (\u043e (Cyrillic Small Letter O)): read as 'Education'")
    inventory = compute_inventory(path, "2023/24")
    assert list(inventory.by("department")) == ["Education", "\u041c\u043e\u0441\u043a\u0432\u0430"]
    validation = validate_returns(path, "2023/24")
    flagged = validation.warnings[validation.warnings["column"] == "department"]
    assert list(flagged["source_row"]) == [3] and "read as 'Education'" in flagged["message"].iloc[0]


def test_normalised_name_leaves_plain_names_alone():
    assert normalised_name("  Town Hall ") == ("Town Hall", "")
    assert normalised_name("Ελληνικά") == ("Ελληνικά", "")  # wholly Greek: not a look-alike of Latin
