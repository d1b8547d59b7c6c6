"""matplotlib for the pages that still chart with it (``simcore map``, batch.html, the regression page):
headless backend, figures to PNG bytes. Never imported on the ``simcore run --out`` path."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

__all__ = ["fig_png", "plt"]


def fig_png(fig: plt.Figure) -> bytes:
    """The figure as PNG bytes; the figure is closed."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
