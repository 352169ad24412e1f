"""tidetrace: trace forced labour through seafood supply chains, and prove what you find."""

from tidetrace.exc import InputError, TidetraceError
from tidetrace.model import model

__version__ = "0.1.0"
__all__ = ["InputError", "TidetraceError", "__version__", "model"]
