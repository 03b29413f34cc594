-- Reference for `make bench`: the least a query can do, with no checks. Three columns (activity,
-- quantity, unit) read with DuckDB's own type detection, joined to the factor lines, summed per scope.
-- reference.py provides `raw` (the input, types detected) and `factor_lines` (see reference_checks.sql).
SELECT f.scope, sum(CAST(r.quantity AS DOUBLE) * f.tco2e_per_unit) AS tco2e
FROM raw AS r
JOIN factor_lines AS f ON f.activity = r.activity AND f.unit = r.unit
GROUP BY f.scope
ORDER BY f.scope;
