"""/board/: the director's board and the KPI pages (issue 5)."""

from django.urls import path

from checklists.board import views as views_board
from checklists.board.live import views as live_views

urlpatterns = [
    path("board/", views_board.board, name="board"),
    path("board/items/", views_board.items, name="board-items"),
    # Issue 20: the live part an open board polls, 催一下 for a person or a role, the reminder on the today page
    path("board/live/", live_views.board_live, name="board-live"),
    path("board/nudge/member/<int:member_id>/", live_views.nudge_member, name="board-nudge-member"),
    path("board/nudge/role/<int:role_id>/", live_views.nudge_whole_role, name="board-nudge-role"),
    path("nudges/mine/", live_views.nudge_banner, name="nudge-banner"),
    path("start/", live_views.landing, name="landing"),  # where a login lands
    path("board/trends/", views_board.trends, name="board-trends"),
    path("board/kpi/", views_board.kpi_detail, name="board-kpi"),
    path("board/week/", views_board.week, name="board-week"),
    path("board/export.xlsx", views_board.export, name="board-export"),
    path("board/figures/", views_board.figures, name="board-figures"),
    path("board/import/", views_board.import_figures, name="board-import"),
    path("board/import/layouts/", views_board.import_layouts, name="board-import-layouts"),
    path("board/targets/", views_board.targets, name="board-targets"),
]
