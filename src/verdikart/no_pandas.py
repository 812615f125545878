"""The `verdikart` program runs without pandas, which pyarrow would otherwise import.

Each time pyarrow converts Python values (``pa.array([...])``, ``pa.table({...})``) it tries to
import pandas, to recognise pandas objects and pandas' missing-value markers. Importing pandas
costs about 0.2 s, a fifth of a whole ``verdikart map`` run whose queries are prepared, and
verdikart never hands pandas objects to pyarrow: it converts Python lists and Arrow tables.
pyarrow does without pandas when the import fails, and it retries on every conversion, so the
program hides pandas for as long as it runs (:func:`hide_pandas`, called by the command line
only: a caller's own Python process keeps its pandas). An install without the `spark` or `dev`
extras has no pandas at all and runs the same way.

The one part of verdikart that needs pandas is the Spark engine (PySpark converts through
it); it calls :func:`allow_pandas` before it starts Spark. Any other import of pandas in the
program fails loudly, naming this module.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType


class _HidePandas(importlib.abc.MetaPathFinder):
    """An import hook under which ``import pandas`` fails (only while it is installed)."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == "pandas" or fullname.startswith("pandas."):
            raise ImportError(
                "pandas is not loaded in the verdikart program (see verdikart.no_pandas)",
                name=fullname,
            )
        return None


def hide_pandas() -> None:
    """Hide pandas from the rest of this process, unless it is loaded already."""
    if "pandas" in sys.modules or any(isinstance(f, _HidePandas) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _HidePandas())


def allow_pandas() -> None:
    """Let this process import pandas again, and pyarrow see it (when it is installed)."""
    hidden = any(isinstance(f, _HidePandas) for f in sys.meta_path)
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _HidePandas)]
    if not hidden or "pyarrow" not in sys.modules:
        return
    import pyarrow.lib

    # pyarrow noted "no pandas" when its import failed; asking for pandas itself (the private
    # `_pandas_api.pd`, absent in some later pyarrow: then pyarrow finds pandas on its own
    # first real use) makes it import pandas now and note that it is there
    shim = getattr(pyarrow.lib, "_pandas_api", None)
    try:
        _ = None if shim is None else shim.pd
    except ImportError:  # pandas is not installed: nothing to see
        return
