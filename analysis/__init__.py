"""Pure analysis of reports over place and time: no web framework, no database.

- `grouping`: which reports describe one incident (reports → incidents); its rules in
  `grouping_rules`.
- `geo`: areas from GeoJSON and point-in-area lookup (shapely).
- `distance`: the one haversine.
- `places`: recurring places (several reports near one spot).
- `trends`: counts against a four-week baseline.
- `calendar`: nights, weeks and months in local wall-clock time (DST-safe).

The standard library only, except `geo` (shapely and numpy, for point in polygon).
"""
