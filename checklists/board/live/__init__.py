"""The board's live part: who is behind now, the nudges (催一下) and where a login lands (issue 20)."""
