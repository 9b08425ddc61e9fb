"""The project's console script."""

from __future__ import annotations

import click
import tabulate

from layers_app.report import encodings


@click.command()
@click.option("--rows", default=1000, help="How many numbers to draw.")
def main(rows: int) -> None:
    """Prints the summary's size in each format."""
    click.echo(tabulate.tabulate(sorted(encodings(rows).items()), headers=["format", "bytes"]))
