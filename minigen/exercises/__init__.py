"""Exercises: rewrite a piece of minigen yourself and let its tests judge it.

    python -m minigen.exercises list              name, topic, difficulty, status
    python -m minigen.exercises start NAME        writes exercises/NAME.py to fill in
    python -m minigen.exercises check [NAME ...]  runs the checks with your function swapped in
    python -m minigen.exercises reset NAME        starts the file over

``MINIGEN_EXERCISES=NAME,...`` makes the demos run with your versions (``use_student_versions``).
See docs/exercises.md.
"""
from minigen.exercises.checking import CheckFailure, Result, run_checks, swapped
from minigen.exercises.registry import EXERCISES, Exercise, get
from minigen.exercises.student import load, use_student_versions

__all__ = ["EXERCISES", "CheckFailure", "Exercise", "Result", "get", "load", "run_checks", "swapped",
           "use_student_versions"]
