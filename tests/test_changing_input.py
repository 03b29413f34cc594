"""A file that changes while it is read (issue #16, class 10): its rows are not counted, and the
manifest records the digest of the bytes that were read."""

import hashlib
import json

from conftest import gas_row, write_rows
from sefton_carbon.engines.pipeline import compute_inventory
from sefton_carbon.outputs.manifest import publish_inventory
from sefton_carbon.returns import activity
from sefton_carbon.returns.activity import read_activity


def test_a_file_replaced_while_it_is_read_is_refused(tmp_path, monkeypatch):
    path = write_rows(tmp_path / "bills.csv", [gas_row(1000), gas_row(2000, start="2023-05-01", end="2023-05-31")])
    read_tables = activity._read_tables

    def read_then_replace(file, *arguments):
        result = read_tables(file, *arguments)
        write_rows(file, [gas_row(1000)])  # another version lands while the first is checked
        return result

    monkeypatch.setattr(activity, "_read_tables", read_then_replace)
    data = read_activity(path)
    assert data.rows.empty and bool(data.files["unreadable"].iloc[0])
    assert data.rejected["reason"].iloc[0].startswith("changed while it was read")


def test_the_manifest_records_the_bytes_that_were_read(tmp_path):
    path = write_rows(tmp_path / "bills.csv", [gas_row(1000)])
    read_digest = hashlib.sha256(path.read_bytes()).hexdigest()
    inventory = compute_inventory(path, "2023/24")
    assert inventory.files["sha256"].tolist() == [read_digest]
    write_rows(path, [gas_row(9999)])  # changed after reading, before publishing
    folder = tmp_path / "out"
    publish_inventory(inventory, folder, "inventory", [path], {"year": "2023/24"})
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    recorded = {item["path"]: item["sha256"] for item in manifest["inputs"]}
    assert read_digest in recorded.values()
