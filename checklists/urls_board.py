"""/board/: the director's board and the KPI pages (issue 5)."""

from django.urls import path

from checklists import views_board

urlpatterns = [
    path("board/", views_board.board, name="board"),
    path("board/items/", views_board.items, name="board-items"),
    path("board/trends/", views_board.trends, name="board-trends"),
    path("board/kpi/", views_board.kpi_detail, name="board-kpi"),
    path("board/week/", views_board.week, name="board-week"),
    path("board/export.xlsx", views_board.export, name="board-export"),
    path("board/figures/", views_board.figures, name="board-figures"),
    path("board/import/", views_board.import_figures, name="board-import"),
    path("board/import/layouts/", views_board.import_layouts, name="board-import-layouts"),
    path("board/targets/", views_board.targets, name="board-targets"),
]
