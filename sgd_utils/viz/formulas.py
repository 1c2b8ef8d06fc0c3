"""Formulas parsed once for all figures, not once per figure.

matplotlib typesets every formula of a figure with mathtext: axis labels such as ``$\\epsilon$``,
and every tick label of a log axis (``$\\mathdefault{10^{-3}}$``). It caches each parsed formula,
but per renderer, and every new figure gets a new renderer. The book draws hundreds of figures
whose formulas are the same from one slider position to the next, so each image parsed its log
axes' tick labels again: about 8 ms a label, 15% of a typical slider image (measured on chapter 7's
figure: 169 ms a wide image before, 147 ms after).

:func:`share_parsed_formulas` keys matplotlib's cache on the kind of output instead of on the
renderer, so that every Agg renderer reuses what any other has parsed. A parse depends only on the
formula, the dpi, the font, antialiasing and hinting, which stay in the key; renderers only read
what they get back, as they already do within one figure. Images are byte for byte the same
(``tests/test_figure_style.py``).
"""

from __future__ import annotations

import functools
import os

from matplotlib import mathtext

# matplotlib's own cached parse, kept to restore it (and for the tests); None if this matplotlib
# version has no such cache, in which case nothing is shared
MATPLOTLIB_PARSE = getattr(mathtext.MathTextParser, "_parse_cached", None)
_UNCACHED_PARSE = getattr(MATPLOTLIB_PARSE, "__wrapped__", None)
# the MathTextParser argument that makes each kind of output (matplotlib has these two)
_OUTPUT_NAMES = {"raster": "agg", "vector": "path"}
CACHE_SIZE = 4096   # formulas; a chapter uses a few hundred


@functools.lru_cache(maxsize=CACHE_SIZE)
def _parse_shared(output_type, formula, dpi, prop, antialiased, load_glyph_flags):
    parser = mathtext.MathTextParser(_OUTPUT_NAMES[output_type])
    return _UNCACHED_PARSE(parser, formula, dpi, prop, antialiased, load_glyph_flags)


# A forked child starts with an empty cache, as matplotlib empties its cache of fonts
# (font_manager): FreeType's objects cannot be used across fork(), and with the parent's formulas
# the forked workers of slider_figure(workers=2) failed in FT_Load_Glyph ("invalid outline").
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_parse_shared.cache_clear)


def _parse_cached(self, formula, dpi, prop, antialiased, load_glyph_flags):
    return _parse_shared(self._output_type, formula, dpi, prop, antialiased, load_glyph_flags)


def share_parsed_formulas() -> bool:
    """Make every matplotlib renderer share one cache of parsed formulas (idempotent). Returns
    whether it could: False leaves matplotlib as it is, correct and only slower."""
    if _UNCACHED_PARSE is None:
        return False
    mathtext.MathTextParser._parse_cached = _parse_cached
    return True
