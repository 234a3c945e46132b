"""Pages of the director's board (issue 5), one module a page family: the board and its tiles (board), the figures
behind a KPI (kpi), entering and importing figures (figures), targets (targets). Thin: parse, call a selector or
service, render."""
