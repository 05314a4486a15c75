"""
ScoutQL from Python and Jupyter: `Client(url)` for the GraphQL API, answers as pandas
DataFrames, and a `%%scoutql` cell magic (`%load_ext scoutql`).
"""
from .client import DEFAULT_URL, Client, ScoutQLError, TruncatedResultWarning
from .frames import to_frame
from .windows import chunks, window

__all__ = ["Client", "ScoutQLError", "TruncatedResultWarning", "DEFAULT_URL", "to_frame", "window", "chunks"]
__version__ = "0.1.0"


def load_ipython_extension(ipython):  # noqa: D103 - IPython's hook for `%load_ext scoutql`
    from .magic import load_ipython_extension as load

    load(ipython)
