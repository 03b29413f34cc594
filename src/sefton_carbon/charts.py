"""Charts, drawn with matplotlib (imported only when a chart is asked for) as SVG or PNG.

Every chart has a title, labelled axes with units, and a legend, so that a committee member can read
it without the table beside it.
"""

from __future__ import annotations

from pathlib import Path

from .errors import UsageError

CHART_SUFFIXES = (".svg", ".png")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    # Text stays text in SVG (readable by screen readers and searchable), not drawn as paths.
    matplotlib.rcParams["svg.fonttype"] = "none"
    import matplotlib.pyplot as pyplot

    return pyplot


def _save(figure, path: Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in CHART_SUFFIXES:
        raise UsageError(f"{path}: a chart is written as .svg or .png")
    path.parent.mkdir(parents=True, exist_ok=True)
    # A fixed date keeps SVG output byte-identical between runs.
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
