"""Runs a notebook top to bottom with nbclient; any cell error fails the run (exit 1).

    python3 test/clients/run_notebook.py examples/hunt.ipynb [executed.ipynb]

Cells run in the notebook's own folder, in the `python3` kernel, with this process's environment
(SCOUTQL_URL, SCOUTQL_LOGS, PYTHONPATH). The executed notebook is written to the second path.
"""
import os
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def main(source: str, executed: str = "") -> int:
    # The kernel inherits this: quiets debugpy's frozen-modules notice in every cell's stderr.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    notebook = nbformat.read(source, as_version=4)
    runner = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(source))}},
    )
    try:
        runner.execute()
    except CellExecutionError as error:
        print(f"{source}: a cell failed\n{error}", file=sys.stderr)
        return 1
    finally:
        if executed:
            nbformat.write(notebook, executed)
    print(f"{source}: {len(notebook.cells)} cells ran without error")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
