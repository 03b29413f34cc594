"""Property-based tests over the readers and the inventory: whatever a department sends, no
traceback, and rows read = rows accounted + rows rejected, always."""

import csv
import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sefton_carbon.accounting.inventory import price_activity
from sefton_carbon.returns.activity import COLUMN_SYNONYMS, read_activity

pytestmark = pytest.mark.slow  # 200 whole reads or inventories each

COLUMNS = ["department", "site", "activity", "quantity", "unit", "period_start", "period_end", "data_quality"]
GOOD = {"department": ["Corporate", "Highways"], "site": ["Town Hall", "Depot", ""],
        "activity": ["natural_gas", "electricity", "diesel", "Natural Gas", "business mileage"],
        "quantity": ["1000", "2,500.5", "0", "12.75", "300 kWh"], "unit": ["kWh", "KWH", "litres", "miles", "MWh"],
        "period_start": ["2023-04-01", "01/05/2023", "2023-06-01", "45017"],
        "period_end": ["2023-04-30", "31/05/2023", "2023-06-30", "2024-03-31"],
        "data_quality": ["actual", "estimated", ""]}
JUNK = st.one_of(st.text(max_size=12), st.sampled_from(["", " ", "=1+1", "-5", "nan", "inf", "1e400", "31/02/2024",
                                                       "gallons", "\u00a3", "1 234", "12,5", "Total", "#REF!",
                                                       "\uff11\uff12", "\u00a01234", "+-5", "2607-04-01",
                                                       "1899-12-31", "Sub-total:", "correction"]))
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"])


@st.composite
def returns(draw):
    """A return with shuffled and renamed headers, some corrupted cells, in some encoding."""
    order = draw(st.permutations(COLUMNS))
    header = []
    for column in order:
        name = draw(st.sampled_from(COLUMN_SYNONYMS[column]))
        header.append(draw(st.sampled_from([name, name.upper(), name.title(), f" {name} "])))
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        values = {column: draw(st.sampled_from(GOOD[column])) for column in COLUMNS}
        for column in draw(st.lists(st.sampled_from(COLUMNS), max_size=3)):
            values[column] = draw(JUNK)
        rows.append([values[column] for column in order])
    encoding = draw(ENCODINGS)
    title = draw(st.sampled_from([[], [["Return for 2023/24"]], [["Return"], []]]))
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerows(title + [header] + rows)
    return stream.getvalue().encode(encoding, errors="replace"), len(rows)


def _read(content: bytes):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "return.csv"
        path.write_bytes(content)
        return read_activity(path)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(returns())
def test_reader_never_fails_and_loses_nothing(generated):
    content, _ = generated
    data = _read(content)
    files = data.files.iloc[0]
    rejected_rows = int(data.rejected["source_row"].notna().sum()) if not files["unreadable"] else 0
    assert files["rows_read"] == len(data.rows) + rejected_rows


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(returns())
def test_inventory_reconciles_whatever_it_is_given(generated):
    content, _ = generated
    inventory = price_activity(_read(content), "2023/24")
    assert inventory.rows_read == inventory.rows_accounted + inventory.rows_rejected
    assert inventory.total_tco2e == inventory.total_tco2e  # a number, never NaN
