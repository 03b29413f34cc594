-- Reference for `make bench`: the inventory of one reporting year, hand-written in DuckDB SQL with
-- the checks the default command makes on a department's return, applied row by row.
--
-- Run by reference.py, which provides:
--   raw           a view of the input with every column read as text;
--   factor_lines  (activity, unit, scope, tco2e_per_unit): the priced lines inside the boundary, in
--                 t CO2e per reported unit (kg CO2e x unit conversion / 1000), from the library;
--   variables     year_start and year_end (DATE): the first and last day of the reporting year.
--
-- Steps: skip blank rows; parse quantities (1,234.5) and dates (ISO or UK day-first); refuse
-- quantities that are not numbers, not finite, negative or above 10^12, unreadable dates, periods
-- that end before they start and periods outside the year; apportion a period that crosses the
-- year's edge by days; refuse a period that overlaps an earlier-starting one of the same department,
-- site, meter and activity; price each row by joining the factor lines; sum per scope.
WITH parsed AS (
    SELECT
        trim(department) AS department,
        coalesce(trim(site), '') AS site,
        coalesce(trim(meter), '') AS meter,
        lower(trim(activity)) AS activity,
        trim(unit) AS unit,
        TRY_CAST(replace(trim(quantity), ',', '') AS DOUBLE) AS quantity,
        CAST(coalesce(TRY_STRPTIME(trim(period_start), '%Y-%m-%d'),
                      TRY_STRPTIME(trim(period_start), '%d/%m/%Y')) AS DATE) AS period_start,
        CAST(coalesce(TRY_STRPTIME(trim(period_end), '%Y-%m-%d'),
                      TRY_STRPTIME(trim(period_end), '%d/%m/%Y')) AS DATE) AS period_end
    FROM raw
    WHERE coalesce(trim(activity), '') <> '' OR coalesce(trim(quantity), '') <> ''
       OR coalesce(trim(unit), '') <> '' OR coalesce(trim(period_start), '') <> ''
       OR coalesce(trim(period_end), '') <> ''
),
valid AS (
    SELECT *
    FROM parsed
    WHERE quantity IS NOT NULL AND isfinite(quantity) AND quantity >= 0 AND quantity <= 1e12
      AND period_start IS NOT NULL AND period_end IS NOT NULL AND period_end >= period_start
      AND period_end >= getvariable('year_start') AND period_start <= getvariable('year_end')
),
ordered AS (
    SELECT *,
        max(period_end) OVER (
            PARTITION BY department, site, meter, activity
            ORDER BY period_start, period_end
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ) AS latest_earlier_end
    FROM valid
),
accounted AS (
    SELECT activity, unit,
        quantity * (least(period_end, getvariable('year_end'))
                    - greatest(period_start, getvariable('year_start')) + 1)
                 / (period_end - period_start + 1) AS quantity_in_year
    FROM ordered
    WHERE latest_earlier_end IS NULL OR period_start > latest_earlier_end
)
SELECT f.scope, sum(a.quantity_in_year * f.tco2e_per_unit) AS tco2e
FROM accounted AS a
JOIN factor_lines AS f ON f.activity = a.activity AND f.unit = a.unit
GROUP BY f.scope
ORDER BY f.scope;
