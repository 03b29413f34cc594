"""Charts, drawn with matplotlib (imported only when a chart is asked for) as SVG or PNG.

Every chart has a title, labelled axes with units, and a legend, so that a committee member can read
it without the table beside it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sefton_carbon.errors import UsageError
from sefton_carbon.io.files import writing
from sefton_carbon.outputs.text import money
from sefton_carbon.planning.scenarios import NOT_ABATEMENT

CHART_SUFFIXES = (".svg", ".png")
#: The most characters of a scenario's or a measure's name a chart shows (names may have 100): a
#: longer one is cut with an ellipsis, so that titles, legends and axis labels fit their panel.
NAME_SHOWN_CHARACTERS = 40


def _shown(name: str) -> str:
    """A name as a chart shows it, cut to `NAME_SHOWN_CHARACTERS`."""
    return name if len(name) <= NAME_SHOWN_CHARACTERS else name[:NAME_SHOWN_CHARACTERS - 1] + "\u2026"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    # Text stays text in SVG (readable by screen readers and searchable), not drawn as paths.
    matplotlib.rcParams["svg.fonttype"] = "none"
    # Element ids in SVG are hashes salted at random unless a salt is set: a fixed salt keeps a
    # chart, and the HTML report that embeds it, byte-identical between runs.
    matplotlib.rcParams["svg.hashsalt"] = "sefton-carbon"
    import matplotlib.pyplot as pyplot

    return pyplot


def _save(figure, path: Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in CHART_SUFFIXES:
        raise UsageError(f"{path}: a chart is written as .svg or .png")
    # A fixed date keeps SVG output byte-identical between runs.
    with writing(path):
        figure.savefig(path, metadata={"Date": None} if path.suffix.lower() == ".svg" else None,
                       bbox_inches="tight", dpi=150)
    return path


def trajectory_chart(trajectory, path: str | Path) -> Path:
    """Actual emissions against the pathway, with the carbon budget used and remaining."""
    pyplot = _pyplot()
    years = trajectory.years
    figure, axes = pyplot.subplots(figsize=(9, 5))
    positions = range(len(years))
    axes.plot(positions, years["pathway_tco2e"], color="#1b7837", linestyle="--", marker="o",
              markersize=3, label=f"Pathway ({trajectory.pathway.name}: {trajectory.pathway.description})")
    actual = years["actual_tco2e"]
    axes.bar([p for p, value in zip(positions, actual) if value == value],
             [value for value in actual if value == value], color="#2166ac", alpha=0.8,
             label="Actual gross emissions")
    target_position = trajectory.target_year.start_year - trajectory.baseline_year.start_year
    axes.axvline(target_position, color="#b2182b", linewidth=1)
    axes.annotate(f"Target: net zero in {trajectory.target_year.label}", (target_position, 0),
                  xytext=(-5, 10), textcoords="offset points", ha="right", color="#b2182b")
    latest = trajectory.latest
    axes.set_title(f"Council emissions against the {trajectory.pathway.name} pathway to "
                   f"{trajectory.target_year.label}\nCarbon budget {trajectory.budget_tco2e:,.0f} t CO2e: "
                   f"{latest['budget_used_tco2e']:,.0f} used to {latest['latest_year']}, "
                   f"{latest['budget_remaining_tco2e']:,.0f} remaining")
    axes.set_xlabel("Financial year")
    axes.set_ylabel("Emissions (tonnes CO2e)")
    axes.set_xticks(list(positions), years["year"], rotation=45, ha="right")
    axes.yaxis.set_major_formatter(pyplot.FuncFormatter(lambda value, _: f"{value:,.0f}"))
    axes.set_ylim(bottom=0)
    axes.legend(loc="upper right", fontsize="small")
    axes.grid(axis="y", alpha=0.3)
    saved = _save(figure, path)
    pyplot.close(figure)
    return saved


def _draw_macc(pyplot, axes, measures, title: str) -> None:
    """A marginal abatement cost curve on ``axes`` (see `macc_chart`)."""
    frame = measures[~measures["type"].isin(NOT_ABATEMENT) & (measures["tco2e_saved_annual"] > 0)
                     & measures["cost_per_tco2e_gbp"].notna()].sort_values("cost_per_tco2e_gbp")
    left = 0.0
    colours = ["#1b7837", "#2166ac", "#b2182b", "#762a83", "#e08214", "#4d4d4d", "#35978f"]
    for index, record in enumerate(frame.itertuples(index=False)):
        axes.bar(left, record.cost_per_tco2e_gbp, width=record.tco2e_saved_annual, align="edge",
                 color=colours[index % len(colours)], edgecolor="white",
                 label=f"{_shown(record.name)}: {record.tco2e_saved_annual:,.0f} t/yr at "
                       f"{money(record.cost_per_tco2e_gbp)}/t")
        left += record.tco2e_saved_annual
    axes.axhline(0, color="black", linewidth=0.8)
    axes.set_title(title)
    axes.set_xlabel("Emissions saved (tonnes CO2e a year, average over each measure's life)")
    axes.set_ylabel("Cost (GBP per tonne CO2e saved; below zero saves money)")
    axes.xaxis.set_major_formatter(pyplot.FuncFormatter(lambda value, _: f"{value:,.0f}"))
    axes.yaxis.set_major_formatter(pyplot.FuncFormatter(lambda value, _: money(value)))
    if len(frame):
        axes.legend(loc="upper left", fontsize="small")
    axes.grid(axis="y", alpha=0.3)


def _draw_waterfall(pyplot, axes, result) -> None:
    """From business as usual in the target year, each measure's saving, removals and offsets, to
    net emissions, on ``axes``."""
    target = result.at_target()
    steps = [("Business as usual", target["bau_tco2e"], "total")]
    target_year = result.target_year
    for record in result.measures.itertuples(index=False):
        if record.type in NOT_ABATEMENT:
            continue
        saved = next((value for year, value in _savings_in(result, record.name) if year == target_year.label), 0.0)
        steps.append((_shown(record.name), -saved, "step"))
    steps += [("Removals", -target["removals_tco2e"], "step"), ("Offsets bought", -target["offsets_tco2e"], "step"),
              ("Net emissions", target["net_tco2e"], "total")]
    running = 0.0
    for position, (label, value, kind) in enumerate(steps):
        if kind == "total":
            axes.bar(position, value, color="#2166ac")
            running = value
        else:
            axes.bar(position, value, bottom=running, color="#1b7837" if value <= 0 else "#b2182b")
            running += value
        axes.annotate(f"{value:+,.0f}" if kind == "step" else f"{value:,.0f}", (position, max(running, value, 0)),
                      xytext=(0, 3), textcoords="offset points", ha="center", fontsize="small")
    axes.set_xticks(range(len(steps)), [label for label, _, _ in steps], rotation=30, ha="right")
    axes.set_title(f"{_shown(result.name)}: from business as usual to net emissions in {target_year.label}")
    axes.set_ylabel("Emissions (tonnes CO2e)")
    axes.yaxis.set_major_formatter(pyplot.FuncFormatter(lambda value, _: f"{value:,.0f}"))
    axes.grid(axis="y", alpha=0.3)


def _panels(draw, items: list, path: str | Path, height: float) -> Path:
    """One chart file with a panel per item, stacked, each drawn by ``draw(pyplot, axes, item)``."""
    pyplot = _pyplot()
    figure, panels = pyplot.subplots(len(items), 1, figsize=(10, height * len(items)), squeeze=False)
    for axes, item in zip(panels[:, 0], items):
        draw(pyplot, axes, item)
    figure.tight_layout()
    saved = _save(figure, path)
    pyplot.close(figure)
    return saved


def macc_chart(measures, path: str | Path, title: str) -> Path:
    """Marginal abatement cost curve: one bar per measure, width its tCO2e saved a year, height its
    cost per tCO2e; cheapest first. Offsets, removals and measures that save nothing are left out
    (they are not abatement: the waterfall shows them)."""
    return _panels(lambda pyplot, axes, _: _draw_macc(pyplot, axes, measures, title), [None], path, 5.5)


def scenario_charts(results, macc: str | Path | None = None, waterfall: str | Path | None = None) -> list[Path]:
    """The cost curve and the waterfall of every scenario, each kind in the one file named, one
    panel per scenario in the order of the scenarios file."""
    written = []
    if macc is not None:
        written.append(_panels(lambda pyplot, axes, result: _draw_macc(
            pyplot, axes, result.measures, f"{_shown(result.name)}: cost of each measure"), results, macc, 5.5))
    if waterfall is not None:
        written.append(_panels(_draw_waterfall, results, waterfall, 5.5))
    return written


def _savings_in(result, measure_name: str):
    return result.savings.get(measure_name, [])


def area_chart(profile, path: str | Path) -> Path:
    """Borough emissions by sector, year by year, with likely series breaks marked."""
    pyplot = _pyplot()
    years = profile.years
    sectors = [column for column in years.columns if column not in ("total_kt", "per_person_t", "per_km2_kt")]
    figure, axes = pyplot.subplots(figsize=(10, 5.5))
    bottom = np.zeros(len(years))
    positions = np.arange(len(years))
    for sector in sectors:
        values = years[sector].fillna(0.0).to_numpy()
        axes.bar(positions, values, bottom=bottom, label=sector)
        bottom += values
    for year, group in profile.breaks.groupby("year"):
        position = list(years.index).index(year)
        axes.annotate(f"series break?\n{', '.join(group['subsector'])}", (position, years.loc[year, "total_kt"]),
                      xytext=(0, 25), textcoords="offset points", ha="center", fontsize="x-small", color="#b2182b",
                      arrowprops={"arrowstyle": "->", "color": "#b2182b"})
    axes.set_xticks(positions, [str(year) for year in years.index], rotation=45)
    axes.set_title(f"{profile.name}: emissions by sector\n({profile.basis})")
    axes.set_xlabel("Calendar year")
    axes.set_ylabel("Emissions (kilotonnes CO2)" if "CO2," in profile.basis else "Emissions (kilotonnes CO2e)")
    axes.yaxis.set_major_formatter(pyplot.FuncFormatter(lambda value, _: f"{value:,.0f}"))
    axes.set_ylim(0, float(years["total_kt"].max()) * 1.25)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), fontsize="small", ncol=4)
    axes.grid(axis="y", alpha=0.3)
    saved = _save(figure, path)
    pyplot.close(figure)
    return saved
