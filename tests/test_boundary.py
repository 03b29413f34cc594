"""Boundary options, sites register, contracts (market-based Scope 2) and spend-based lines."""

import json

import numpy as np
import pandas as pd
import pytest

from conftest import gas_row, write_rows
from sefton_carbon import compute_inventory
from sefton_carbon.accounting.boundary import load_boundary_options
from sefton_carbon.accounting.contracts import covering_contract, read_contracts
from sefton_carbon.accounting.sites import read_sites
from sefton_carbon.engines.pipeline import compare_inventories
from sefton_carbon.errors import DataError, UsageError
from sefton_carbon.outputs.demo import example_registers, example_returns
from sefton_carbon.years import ReportingYear

GRID_2023 = 0.20707428859060403  # UK electricity, 2023 flat file [kg CO2e/kWh]


def test_bundled_options_load_with_a_default():
    options = load_boundary_options()
    assert list(options.options) == ["scope_1_2", "scope_1_2_energy_supply", "own_operations",
                                     "own_operations_with_schools_and_contracts",
                                     "full_footprint_with_procurement"]
    assert options.default == "own_operations"
    assert options.get(None).name == "own_operations"
    assert options.get("full_footprint_with_procurement").scope_2_method == "market"


def test_explain_says_what_is_in_and_out():
    text = "\n".join(load_boundary_options().get("scope_1_2").statement())
    assert "In: Scope 1, Scope 2" in text
    assert "Out: Scope 3; activity spend:*; sites tagged leased_out" in text
    assert "Well-to-tank (upstream fuel and electricity supply): out" in text


BASE_OPTION = """\
default: a
options:
  a:
    label: A
    description: An option.
    consolidation: operational_control
    scopes: [1, 2, 3]
    scope_3_categories: [3]
    transmission_distribution: true
    well_to_tank: true
    scope_2_method: location
"""


@pytest.mark.parametrize("change, line, fragment", [
    (("scope_3_categories: [3]", "scope_3_categories: [3, 16]"), 8, "16 not allowed"),
    (("scopes: [1, 2, 3]", "scopes: '1, 2'"), 7, "must be a list of whole numbers"),
    (("    scope_2_method: location", "    scope_2_method: location\n    exclude_activities: [natral_gas]"),
     12, "unknown activity 'natral_gas'"),
    (("    scope_2_method: location", "    scope_2_method: location\n    exclude_site_tags: [school]"),
     12, "unknown tag 'school'"),
    (("    scope_2_method: location", "    scope_2_method: location\n    colour: blue"), 12, "unknown key(s) colour"),
    (("scope_2_method: location", "scope_2_method: residual"), 11, "must be location or market"),
    (("scope_3_categories: [3]", "scope_3_categories: [6]"), 3, "add 3 to scope_3_categories"),
    (("default: a", "default: b"), 1, "default 'b' is not one of the options"),
    (("description: An option.", "description: &text An option.\n    label2: *text"), 5, "anchors and aliases"),
    (("label: A", "label: !!python/object/apply:os.system [echo]"), 4, "not allowed"),
])
def test_invalid_options_name_file_line_and_key(tmp_path, change, line, fragment):
    path = tmp_path / "scopes.yaml"
    path.write_text(BASE_OPTION.replace(*change), encoding="utf-8")
    with pytest.raises(DataError) as raised:
        load_boundary_options(path)
    message = str(raised.value)
    assert message.startswith(f"{path}, line {line}"), message
    assert fragment in message


def test_unknown_option_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown boundary option 'everything'"):
        load_boundary_options().get("everything")


def _two_sites(tmp_path):
    rows = [gas_row(100000, "kWh", activity="electricity", site="Civic Offices"),
            gas_row(50000, "kWh", activity="electricity", site="Depot"),
            gas_row(10000, "kWh", site="School", department="Education"),
            gas_row(5000, "GBP", activity="spend:construction", site="")]
    return write_rows(tmp_path / "returns.csv", rows)


def _registers(tmp_path):
    sites = tmp_path / "sites.csv"
    sites.write_text("site,department,tags,operational_control,floor_area_m2\n"
                     "Civic Offices,Corporate,,yes,4000\nDepot,Operations,,yes,900\n"
                     "School,Education,maintained_school,yes,3000\n", encoding="utf-8")
    contracts = tmp_path / "contracts.csv"
    contracts.write_text("site,supplier,tariff,period_start,period_end,kgco2e_per_kwh,evidence\n"
                         "Civic Offices,Supplier A,renewable,2023-04-01,2024-03-31,0,REGO certificates\n"
                         "Depot,Supplier B,green,2023-04-01,2024-03-31,0,\n", encoding="utf-8")
    spend = tmp_path / "spend.csv"
    spend.write_text("procurement_category,scope_3_category,kgco2e_per_gbp,source,price_base_year\n"
                     "construction,2,0.3,Test table,2020\n", encoding="utf-8")
    return {"sites": sites, "contracts": contracts, "spend_factors": spend}


def test_location_and_market_scope_2_with_a_renewable_tariff(tmp_path):
    inventory = compute_inventory(_two_sites(tmp_path), "2023/24", **_registers(tmp_path))
    scopes = inventory.by_scope()
    assert scopes["scope_2_location"] == pytest.approx(150000 * GRID_2023 / 1000)
    # The REGO-backed site counts 0; the depot's contract has no evidence and no residual mix is
    # set, so it falls back to the grid factor.
    assert scopes["scope_2_market"] == pytest.approx(50000 * GRID_2023 / 1000)
    assert scopes["scope_2"] == scopes["scope_2_location"]  # the default option is location-based
    assert any("no residual-mix factor" in note for note in inventory.notes)
    ledger = inventory.ledger.set_index(["site", "line"])
    assert ledger.loc[("Civic Offices", "direct"), "tco2e_market"] == 0
    assert ledger.loc[("Civic Offices", "direct"), "market_basis"] == "contract"
    assert "contract without evidence" in ledger.loc[("Depot", "direct"), "market_basis"]


def test_residual_mix_and_market_method_from_the_options_file(tmp_path):
    scopes = tmp_path / "scopes.yaml"
    scopes.write_text(BASE_OPTION.replace("scope_2_method: location", "scope_2_method: market")
                      + "scope_2_market:\n  residual_mix_kgco2e_per_kwh: 0.4\n  residual_mix_source: test\n",
                      encoding="utf-8")
    inventory = compute_inventory(_two_sites(tmp_path), "2023/24", scopes_file=scopes, **_registers(tmp_path))
    scopes_figures = inventory.by_scope()
    assert scopes_figures["scope_2_market"] == pytest.approx(50000 * 0.4 / 1000)
    assert scopes_figures["scope_2"] == scopes_figures["scope_2_market"]
    assert inventory.total_tco2e == pytest.approx(
        scopes_figures["scope_1"] + scopes_figures["scope_2_market"] + scopes_figures["scope_3"])
    assert inventory.by("site")["Civic Offices"] == pytest.approx(100000 * 0.01792 / 1000 + 100000 * 0.0459 / 1000
                                                                  + 100000 * 0.00397 / 1000, rel=1e-3)


def test_default_boundary_leaves_out_schools_and_spend_but_accounts_for_them(tmp_path):
    inventory = compute_inventory(_two_sites(tmp_path), "2023/24", **_registers(tmp_path))
    assert inventory.rows_accounted == 4 and inventory.rows_outside_boundary == 2
    outside = inventory.outside_boundary()
    assert outside["rows_by_reason"] == {"site tagged maintained_school": 1,
                                         "activity spend:construction is outside the boundary": 1}
    school_gas = 10000 * (0.18292892617449666 + 0.03021) / 1000
    assert outside["tco2e"] == pytest.approx(school_gas + 5000 * 0.3 / 1000)
    assert "Education" not in inventory.by("department")
    ledger = inventory.ledger
    assert (~ledger["in_boundary"]).sum() == 3  # school gas, its well-to-tank line, the spend line


def test_scope_1_2_option_drops_scope_3_lines(tmp_path):
    inventory = compute_inventory(_two_sites(tmp_path), "2023/24", scope_option="scope_1_2",
                                  **_registers(tmp_path))
    assert inventory.by_scope()["scope_3"] == 0
    assert inventory.total_tco2e == pytest.approx(150000 * GRID_2023 / 1000)


def test_spend_lines_use_the_table_and_record_its_source(tmp_path):
    inventory = compute_inventory(_two_sites(tmp_path), "2023/24",
                                  scope_option="full_footprint_with_procurement", **_registers(tmp_path))
    spend = inventory.ledger[inventory.ledger["activity"] == "spend:construction"].iloc[0]
    assert spend["tco2e"] == pytest.approx(1.5) and spend["category"] == 2
    assert spend["factor_uom"] == "GBP (2020 prices)" and spend["factor_set"] == "Test table (spend.csv)"
    assert inventory.by_scope_3_category()[2] == pytest.approx(1.5)


def test_spend_the_option_includes_without_a_table_is_rejected_with_the_reason(tmp_path):
    inventory = compute_inventory(_two_sites(tmp_path), "2023/24", scope_option="full_footprint_with_procurement")
    assert inventory.rows_rejected == 1
    assert "spend factor table (--spend-factors FILE)" in inventory.rejected.iloc[0]["reason"]


def test_spend_the_option_leaves_out_needs_no_table_and_is_accounted_outside(tmp_path):
    inventory = compute_inventory(_two_sites(tmp_path), "2023/24")
    assert (inventory.rows_read, inventory.rows_accounted, inventory.rows_rejected) == (4, 4, 0)
    assert inventory.outside_boundary()["rows_by_reason"] == {
        "activity spend:construction is outside the boundary": 1}
    spend = inventory.ledger[inventory.ledger["activity"] == "spend:construction"]
    assert len(spend) == 1 and not spend["in_boundary"].iloc[0]
    assert spend["factor_uom"].iloc[0].startswith("not priced") and spend["tco2e"].iloc[0] == 0
    assert any("1 spend row(s) are accounted for as outside the boundary" in note for note in inventory.notes)
    # Seen through an option that includes spend, the row stays outside and says why.
    wide = inventory.under(load_boundary_options().get("full_footprint_with_procurement"))
    reason = ("activity spend:construction is in this boundary but not priced: no spend factor table given "
              "(--spend-factors FILE)")
    assert list(wide.outside.dropna()) == [reason]


def test_an_inventory_without_a_sites_register_says_which_tags_it_could_not_apply(tmp_path):
    inventory = compute_inventory(_two_sites(tmp_path), "2023/24")
    assert ("no sites register was given (--sites FILE), so the boundary option 'own_operations' could not "
            "apply the site tags it leaves out (leased_out, maintained_school, outsourced) nor operational "
            "control: every site was counted as inside the boundary") in inventory.notes
    assert inventory.by("department")["Education"] > 0
    registered = compute_inventory(_two_sites(tmp_path), "2023/24", **_registers(tmp_path))
    assert not any("no sites register" in note for note in registered.notes)
    # An option with no site rule needs no register.
    financial = compute_inventory(_two_sites(tmp_path), "2023/24", scope_option="full_footprint_with_procurement",
                                  spend_factors=_registers(tmp_path)["spend_factors"])
    assert not any("no sites register" in note for note in financial.notes)


def test_a_site_the_council_does_not_operate_is_out_for_that_reason_first(tmp_path):
    sites = tmp_path / "sites.csv"
    sites.write_text("site,department,tags,operational_control,floor_area_m2\n"
                     "School,Education,maintained_school,no,3000\n", encoding="utf-8")
    inventory = compute_inventory(_two_sites(tmp_path), "2023/24", sites=sites)
    assert inventory.outside_boundary()["rows_by_reason"]["site not under the council's operational control"] == 1
    funded = inventory.under(load_boundary_options().get("own_operations_with_schools_and_contracts"),
                             read_sites(sites))
    assert funded.outside.dropna().tolist() == ["activity spend:construction is outside the boundary"]


def test_example_council_sites_register_agrees_with_operational_control():
    register = read_sites(example_registers()["sites"]).table.set_index("site")
    not_run = register[register["tags"].map(lambda tags: bool({"maintained_school", "outsourced", "leased_out"}
                                                               & set(tags)))]
    assert len(not_run) == 5 and not not_run["operational_control"].any()
    assert register.drop(not_run.index)["operational_control"].all()


def test_example_council_runs_clean_under_the_default_option(run_cli):
    returns = example_returns()[ReportingYear.parse("2023/24")]
    code, out, err = run_cli("inventory", returns, "--year", "2023/24", "--format", "json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["rows"] == {"read": 638, "accounted": 638, "rejected": 0, "outside_boundary": 5}
    assert set(summary["outside_boundary"]["rows_by_reason"]) == {
        f"activity spend:{category} is outside the boundary"
        for category in ("construction", "computer_equipment", "professional_services", "food_and_catering",
                         "vehicles")}


def test_example_council_options_side_by_side():
    latest, first = max(example_returns()), min(example_returns())
    table, rejected = compare_inventories(example_returns()[latest], latest, baseline_year=first.label,
                                          baseline_paths=[example_returns()[first]], **example_registers())
    assert rejected.empty
    totals = dict(zip(table["name"], table["total_tco2e"]))
    # Pinned figures of the illustrative example council, 2024/25 on the 2024 factors [t CO2e].
    assert totals == pytest.approx({"scope_1_2": 6926.0, "scope_1_2_energy_supply": 8617.4,
                                    "own_operations": 9093.5, "own_operations_with_schools_and_contracts": 10062.9,
                                    "full_footprint_with_procurement": 18257.6}, abs=0.5)
    assert list(table["added_tco2e"].round(1)) == pytest.approx(
        [6926.0, 1691.4, 476.1, 969.4, 8194.7], abs=0.5)
    market = table.set_index("name").loc["full_footprint_with_procurement"]
    # Three sites on REGO-backed tariffs: market-based Scope 2 is below location-based.
    assert market["scope_2_market"] < market["scope_2_location"] - 300
    flagged = dict(zip(table["name"], table["baseline_shift_flagged"]))
    assert flagged == {"scope_1_2": True, "scope_1_2_energy_supply": False, "own_operations": False,
                       "own_operations_with_schools_and_contracts": True,
                       "full_footprint_with_procurement": True}


@pytest.mark.parametrize("content, fragment", [
    ("site,department\nA,B\n", "missing column(s) tags, operational_control, floor_area_m2"),
    ("site,department,tags,operational_control,floor_area_m2\nA,B,school,yes,1\n", "unknown tag(s) school"),
    ("site,department,tags,operational_control,floor_area_m2\nA,B,,maybe,1\n", "must be yes or no"),
    ("site,department,tags,operational_control,floor_area_m2\nA,B,,yes,1\nA,C,,yes,2\n", "listed more than once"),
])
def test_sites_register_errors(tmp_path, content, fragment):
    path = tmp_path / "sites.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError) as raised:
        read_sites(path)
    assert fragment in str(raised.value) and str(path) in str(raised.value)


def test_overlapping_contracts_are_refused(tmp_path):
    path = tmp_path / "contracts.csv"
    path.write_text("site,supplier,tariff,period_start,period_end,kgco2e_per_kwh,evidence\n"
                    "A,S,t,2023-04-01,2024-03-31,0,REGO\nA,S,t,2024-01-01,2024-12-31,0,REGO\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"row 3, column 'period_start': contracts for site 'A' overlap \(rows 2 and 3\)"):
        read_contracts(path)


def test_each_row_takes_the_contract_covering_the_middle_of_its_period():
    # 120 sites with up to four back-to-back contracts each, 20,000 rows at sites with and without
    # contracts: the one sorted search finds, for every row, the contract a check of each contract
    # in turn finds for the day of the row's middle (a noon on a contract's last day is covered).
    generator = np.random.default_rng(7)
    contracts = []
    for site in range(120):
        day = np.datetime64("2022-01-01") + int(generator.integers(0, 60))
        for _ in range(int(generator.integers(0, 5))):
            length = int(generator.integers(0, 400))
            contracts.append((f"Site {site}", day, day + length))
            day = day + length + int(generator.integers(1, 30))
    table = pd.DataFrame([contracts[i] for i in generator.permutation(len(contracts))],
                         columns=["site", "period_start", "period_end"]).astype(
        {"period_start": "datetime64[ns]", "period_end": "datetime64[ns]"})
    count = 20_000
    site = np.array([f"Site {number}" for number in generator.integers(0, 130, count)], dtype=object)
    start = (np.datetime64("2022-01-01") + generator.integers(0, 1500, count).astype("timedelta64[D]")).astype(
        "datetime64[ns]")
    middle = start + (generator.integers(0, 40, count).astype("timedelta64[D]")) / 2
    found = covering_contract(site, middle, table)
    expected = np.full(count, -1)
    day = middle.astype("datetime64[D]")
    for position, contract in enumerate(table.itertuples(index=False)):
        covered = (site == contract.site) & (day >= contract.period_start) & (day <= contract.period_end)
        expected[covered] = position
    assert (found == expected).all()
    assert 5_000 < (found >= 0).sum() < count  # both kinds of row occur
    assert (covering_contract(pd.Categorical(site), middle, table) == expected).all()


def test_a_contract_dated_outside_the_window_is_refused(tmp_path):
    path = tmp_path / "contracts.csv"
    path.write_text("site,supplier,tariff,period_start,period_end,kgco2e_per_kwh,evidence\n"
                    "A,S,t,2607-04-01,2608-03-31,0,REGO\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"row 2, column 'period_start': '2607-04-01' is outside the dates a contract "
                                        r"may hold \(1990-01-01 to 2100-12-31\)"):
        read_contracts(path)


def test_scope_commands(run_cli, tmp_path):
    code, out, _ = run_cli("scope", "list")
    assert code == 0 and out.splitlines()[2].startswith("* own_operations")
    code, out, _ = run_cli("scope", "explain", "own_operations_with_schools_and_contracts")
    assert "Consolidation: financial control" in out
    code, out, err = run_cli("scope", "explain", "nope")
    assert code == 2 and "unknown boundary option 'nope'" in err
    registers = {f"--{key.replace('_', '-')}": value for key, value in example_registers().items()}
    code, out, _ = run_cli("scope", "compare", example_returns()[ReportingYear(2024)], "--year", "2024/25",
                           "--format", "json", *[part for pair in registers.items() for part in pair])
    assert code == 0
    options = json.loads(out)["options"]
    assert [option["name"] for option in options][0] == "scope_1_2"
    assert {"name", "scope_1", "scope_2_location", "scope_2_market", "scope_3", "total_tco2e"} <= set(options[0])


def test_excluded_activities_by_name_or_by_prefix():
    option = load_boundary_options().get("scope_1_2")
    assert option.exclude_activities == {"spend:*"}
    assert option.excludes_activity("spend:construction")
    assert not option.excludes_activity("natural_gas")
    assert not option.excludes_activity("spendthrift")
