"""Running one exercise's checks in a child process, with a time limit.

A student's file may call ``sys.exit()``, loop forever or end the interpreter: in a child
process none of that stops the report, nor the checks of the other exercises. The child
sends each check's Result as soon as it has one; whatever stops it early is a failure of
the check it was running.
"""
import multiprocessing
import sys
import time

from minigen.exercises import checking, student
from minigen.exercises.registry import get

TIME_LIMIT = 60.0  # seconds for all the checks of one exercise; they take well under one on a laptop


def check_in_child(exercise, time_limit=TIME_LIMIT):
    """(load_error, results) of ``exercise`` on the student's file, run in a child process.

    load_error: None, or why the file could not be loaded (then results is empty). results:
    a list of checking.Result, one per check run; when the child timed out or ended without
    a verdict, the last one is a failure of the check it was running, saying so.
    """
    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(exercise.name, sender), daemon=True)
    child.start()
    sender.close()  # the child holds the only sending end: its end, however it comes, is an EOF here
    try:
        return _receive(exercise, receiver, child, time.monotonic() + time_limit, time_limit)
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receiver.close()


def _receive(exercise, receiver, child, deadline, time_limit):
    """Collect the child's messages until "done", a load error, its end or the deadline."""
    results = []
    while True:
        stopped = None
        if not receiver.poll(max(deadline - time.monotonic(), 0)):
            stopped = f"timed out after {time_limit:g} s: an infinite loop?"
        else:
            try:
                kind, payload = receiver.recv()
            except EOFError:
                child.join()
                stopped = (f"the program ended (exit status {child.exitcode}) before a verdict: does your code call "
                           "sys.exit(), exit() or os._exit()? A check needs your function to return its answer")
        if stopped:
            title = checking.title(exercise.checks[min(len(results), len(exercise.checks) - 1)])
            return None, results + [checking.Result(title, False, stopped)]
        if kind == "load error":
            return payload, []
        if kind == "done":
            return None, results
        results.append(payload)


def _child(name, sender):
    """In the child: load the student's file, run the checks, send ("result", Result)s then ("done", None)."""
    exercise = get(name)
    try:
        candidate = student.load(exercise)
    except (Exception, SystemExit) as error:
        sender.send(("load error", checking.describe_error(error)))
        return
    for result in checking.iter_checks(exercise, candidate):
        sender.send(("result", result))
    sender.send(("done", None))
