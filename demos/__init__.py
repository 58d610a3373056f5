"""The demos, run as scripts (python demos/tour.py) or as modules (python -m demos.tour).
They import one another by file name (``from common import ...``), so their folder goes on
sys.path."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))
