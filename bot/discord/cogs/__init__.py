"""One extension per command group: ask (/ask, mentions, answer buttons), cases (/case, /cases), info."""
