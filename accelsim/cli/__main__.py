"""`python -m accelsim.cli`: the same as the `accelsim` command."""

from accelsim.cli import app

app()
