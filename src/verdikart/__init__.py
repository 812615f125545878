"""verdikart: Norway's place in critical and strategic raw-material value chains.

The package owns nothing at import time: no files are opened, no directories made.
"""

__version__ = "0.1.0"
