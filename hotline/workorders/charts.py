"""matplotlib set-up for the PNG charts: the Agg backend (no display), and a CJK font
when one is installed (Debian: fonts-noto-cjk); without one, Chinese labels show as
boxes, and matplotlib's missing-glyph warnings are silenced."""

from __future__ import annotations

import warnings
from types import ModuleType

CJK_FONTS = ["Noto Sans CJK SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei"]


def pyplot() -> ModuleType:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["font.sans-serif"] = [*CJK_FONTS, "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    warnings.filterwarnings("ignore", message="Glyph .* missing from font")
    warnings.filterwarnings("ignore", message="findfont: Font family")
    return plt
