"""Argument checks shared by the package: a bad argument gets an error that names it and its value.

Kept in one place so that every entry point says the same thing in the same words.
"""
from numbers import Integral

import numpy as np


def check_count(name, value, low):
    """``value`` itself if it is an integer (not a bool) >= ``low``; else a ValueError naming it.

    >>> check_count("num_steps", 5, 0)
    5
    >>> check_count("num_steps", 2.5, 0)
    Traceback (most recent call last):
        ...
    ValueError: num_steps must be an integer >= 0, got num_steps=2.5
    """
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {name}={value!r}")
    return value


def check_batch_size(batch_size, num_samples):
    """``batch_size`` itself if it is an integer in ``[1, num_samples]``; else a ValueError.

    >>> check_batch_size(32, 2000)
    32
    """
    if (isinstance(batch_size, bool) or not isinstance(batch_size, Integral)
            or not 1 <= batch_size <= num_samples):
        raise ValueError(f"batch_size must be an integer in [1, {num_samples}], "
                         f"got batch_size={batch_size!r}")
    return batch_size


def check_flag(name, value):
    """``value`` as a bool after checking that it is one: a string such as ``'False'`` is truthy,
    so converting it would silently switch the option on.

    >>> check_flag("amsgrad", "False")
    Traceback (most recent call last):
    ...
    TypeError: amsgrad must be True or False, got 'False'
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)
