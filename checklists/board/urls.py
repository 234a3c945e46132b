"""/board/: the director's board and the KPI pages (issue 5)."""

from django.urls import path

from checklists.board.live import views as live_views
from checklists.board.views import board as board_views
from checklists.board.views import figures as figures_views
from checklists.board.views import kpi as kpi_views
from checklists.board.views import targets as targets_views

urlpatterns = [
    path("board/", board_views.board, name="board"),
    path("board/items/", board_views.items, name="board-items"),
    # Issue 20: the live part an open board polls, 催一下 for a person or a role, the reminder on the today page
    path("board/live/", live_views.board_live, name="board-live"),
    path("board/nudge/member/<int:member_id>/", live_views.nudge_member, name="board-nudge-member"),
    path("board/nudge/role/<int:role_id>/", live_views.nudge_whole_role, name="board-nudge-role"),
    path("nudges/mine/", live_views.nudge_banner, name="nudge-banner"),
    path("start/", live_views.landing, name="landing"),  # where a login lands
    path("board/trends/", board_views.trends, name="board-trends"),
    path("board/kpi/", kpi_views.kpi_detail, name="board-kpi"),
    path("board/week/", board_views.week, name="board-week"),
    path("board/export.xlsx", board_views.export, name="board-export"),
    path("board/figures/", figures_views.figures, name="board-figures"),
    path("board/import/", figures_views.import_figures, name="board-import"),
    path("board/import/layouts/", figures_views.import_layouts, name="board-import-layouts"),
    path("board/targets/", targets_views.targets, name="board-targets"),
]
