r"""nbval plugin: stored ``mean ± error`` statistics match within a stated tolerance.

Loaded by ``make nbval`` and ``make test-portable`` (``python -m pytest -p tests.nbval_portable
--nbval ...``). nbval compares a cell's new output with the stored one character by character.
That is right for nearly every number in the book, but not for statistics over seeds of chaotic
training runs (``sgd_utils.report.mean_pm``): on another CPU or BLAS library each chaotic run is,
in effect, a new draw, so the mean moves within its standard error.

The rule, applied line by line to text outputs after nbval's sanitizers:

- every ``m ± s`` pair (numbers, optionally in percent) matches when
  :math:`|m_1 - m_2| \le K \sqrt{s_1^2 + s_2^2} + u`, with :math:`K = 4` and :math:`u` one unit
  in the last printed digit of the coarser mean (both were rounded to their printed digits);
- everything else on the line must be identical, except that runs of spaces may differ in length
  (a mean printed with one more digit shifts a table's columns);
- the lines themselves must correspond one to one.

Why :math:`K = 4`: the means over the same seeds on two machines differ at most like two
independent means, whose difference over :math:`\sqrt{s_1^2 + s_2^2}` is about standard normal,
and a 4-sigma disagreement is rarer than 1 in 10,000. A real change to the code or the data moves
a mean by many standard errors and still fails.
"""
from __future__ import annotations

import math
import os
import re
import sys
import tempfile
import uuid

import pytest

K_ERRORS = 4.0
_NUMBER = r"[+-]?\d+(?:\.\d+)?(?:e[+-]?\d+)?%?"
STATISTIC = re.compile(rf"({_NUMBER})\s*±\s*({_NUMBER})")


def _value(token):
    """(value, unit in the last printed digit) of a number token such as '0.893' or '77%'."""
    text = token.rstrip("%")
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    scale = 10.0 ** int(exponent or 0)
    return float(text), 10.0 ** -decimals * scale


def _statistics_match(ref, test):
    (mean_r, unit_r), (error_r, _) = (_value(t) for t in ref)
    (mean_t, unit_t), (error_t, _) = (_value(t) for t in test)
    if ref[0].endswith("%") != test[0].endswith("%"):
        return False
    allowed = K_ERRORS * math.hypot(error_r, error_t) + max(unit_r, unit_t)
    return abs(mean_r - mean_t) <= allowed * (1 + 1e-9)


def _skeleton(line):
    """The line with every statistic replaced by a marker and runs of spaces collapsed."""
    return re.sub(r" +", " ", STATISTIC.sub("<±>", line)).strip()


def lines_match(ref_line, test_line):
    """Whether two output lines agree under the rule of this module's docstring."""
    if ref_line == test_line:
        return True
    ref_stats, test_stats = STATISTIC.findall(ref_line), STATISTIC.findall(test_line)
    if not ref_stats or len(ref_stats) != len(test_stats):
        return False
    if _skeleton(ref_line) != _skeleton(test_line):
        return False
    return all(_statistics_match(r, t) for r, t in zip(ref_stats, test_stats))


def texts_match(ref, test):
    """Whether two output texts agree line by line under :func:`lines_match`."""
    if ref == test:
        return True
    ref_lines, test_lines = ref.splitlines(), test.splitlines()
    return (len(ref_lines) == len(test_lines)
            and all(lines_match(r, t) for r, t in zip(ref_lines, test_lines)))


def _text_slots(output):
    """(container, key) of each text of one output that nbval compares."""
    if output.get("output_type") == "stream":
        return [(output, "text")]
    data = output.get("data", {})
    return [(data, "text/plain")] if "text/plain" in data else []


def _accept_statistics(cell, test, ref):
    """Replace each new text that matches its stored text within tolerance by the stored one."""
    if len(test) != len(ref):
        return
    for new, old in zip(test, ref):
        if new.get("output_type") != old.get("output_type") or new.get("name") != old.get("name"):
            continue
        for (new_slot, key), (old_slot, _) in zip(_text_slots(new), _text_slots(old)):
            new_text, old_text = new_slot[key], old_slot[key]
            if isinstance(new_text, list):
                new_text = "".join(new_text)
            if isinstance(old_text, list):
                old_text = "".join(old_text)
            if new_text != old_text and texts_match(cell.sanitize(old_text),
                                                    cell.sanitize(new_text)):
                new_slot[key] = old_slot[key]


def _kernels_over_ipc(kernel_module):
    """Start nbval's kernels with Unix-socket (IPC) transport instead of TCP ports.

    Two xdist workers start kernels at the same time; each kernel's five TCP ports are chosen as
    free when checked, and a port can be taken by the other worker before it is bound. A client
    then talks to the wrong kernel: nbval failed a whole notebook once here with "Kernel didn't
    respond in 60 seconds" while the other worker's kernel was busy. IPC sockets are files named
    after each kernel's connection file, so they cannot collide. Windows has no IPC transport.
    """
    base = kernel_module.KernelManager

    class IpcKernelManager(base):
        def __init__(self, **kwargs):
            # an absolute path: the kernel runs in the notebook's folder, the client elsewhere
            kwargs.setdefault("transport", "ipc")
            kwargs.setdefault("ip", os.path.join(tempfile.gettempdir(),
                                                 f"nbval-{uuid.uuid4().hex[:12]}-ipc"))
            super().__init__(**kwargs)

    kernel_module.KernelManager = IpcKernelManager


REAL_PROCESSES_TAG = "real-processes"


def pytest_collection_modifyitems(config, items):
    """With ``SGD_BOOK_SKIP_REAL_PROCESSES=1`` (``make test-portable``), skip the cells tagged
    ``real-processes``: they start worker processes and print what no CPU class changes (see
    ``scripts/test_portable.py``). Every cell that uses their results carries the tag too."""
    if os.environ.get("SGD_BOOK_SKIP_REAL_PROCESSES") != "1":
        return
    skip = pytest.mark.skip(reason="real worker processes: run once by make nbval")
    for item in items:
        cell = getattr(item, "cell", None)
        if cell is not None and REAL_PROCESSES_TAG in cell.get("metadata", {}).get("tags", []):
            item.add_marker(skip)


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    try:
        import nbval.kernel
        from nbval.plugin import IPyNbCell
    except ImportError:      # nbval not installed: nothing to extend
        return
    if getattr(IPyNbCell, "_portable_statistics", False):
        return
    original = IPyNbCell.compare_outputs

    def compare_outputs(self, test, ref, skip_compare=None):
        _accept_statistics(self, test, ref)
        return original(self, test, ref, skip_compare)

    IPyNbCell.compare_outputs = compare_outputs
    IPyNbCell._portable_statistics = True
    if sys.platform != "win32":
        _kernels_over_ipc(nbval.kernel)
