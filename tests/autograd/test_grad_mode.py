"""Grad-mode context managers and decorators: ``no_grad``, ``enable_grad``,
``set_grad_enabled`` (and ``inference_mode``, see ``test_inference_mode.py``).

The flags must be torch's in every nesting, with or without parentheses, in generator
functions, and per call: one decorated function called from several threads at once (as
numnet's worker threads do) must restore each thread's own mode.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import numnet

LIBS = ["numnet", "torch"]


def _lib(name):
    return numnet if name == "numnet" else pytest.importorskip("torch")


# -- concurrency -----------------------------------------------------------------------------
def _decorated(lib, kind: str, barrier: threading.Barrier):
    """A function decorated by ``kind``, waiting at ``barrier`` inside (forcing the two
    threads to be inside at once, so their entries and exits interleave)."""

    def work():
        barrier.wait(10)
        inside = lib.is_grad_enabled()
        barrier.wait(10)
        return inside

    decorators = {
        "no_grad()": lambda: lib.no_grad(),
        "no_grad": lambda: lib.no_grad,
        "enable_grad()": lambda: lib.enable_grad(),
        "enable_grad": lambda: lib.enable_grad,
        "set_grad_enabled(False)": lambda: lib.set_grad_enabled(False),
        "set_grad_enabled(True)": lambda: lib.set_grad_enabled(True),
        "inference_mode": lambda: lib.inference_mode,
    }
    return decorators[kind]()(work)


KINDS = {  # the decorator -> the mode inside
    "no_grad()": False,
    "no_grad": False,
    "enable_grad()": True,
    "enable_grad": True,
    "set_grad_enabled(False)": False,
    "set_grad_enabled(True)": True,
    "inference_mode": False,
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_one_decorated_function_called_from_two_threads_at_once(kind):
    """Each thread keeps its own outer mode; with one saved-state stack shared by the
    calls, a thread leaving second would restore the other thread's mode."""
    rounds = 100
    barrier = threading.Barrier(2)
    fn = _decorated(numnet, kind, barrier)
    errors: list[str] = []

    def run(outer: bool):
        try:
            with numnet.set_grad_enabled(outer):
                for i in range(rounds):
                    inside = fn()
                    after = numnet.is_grad_enabled()
                    if inside is not KINDS[kind] or after is not outer:
                        errors.append(f"round {i}, outer {outer}: inside {inside}, after {after}")
                        barrier.abort()
                        return
        except threading.BrokenBarrierError:
            errors.append(f"outer {outer}: the other thread failed")

    threads = [threading.Thread(target=run, args=(outer,)) for outer in (True, False)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors
    assert numnet.is_grad_enabled()


def test_one_instance_entered_by_two_threads_via_decorator_and_with():
    """A context object shared by a decorator and a ``with`` in another thread."""
    ctx = numnet.no_grad()
    barrier = threading.Barrier(2)
    seen = {}

    @ctx
    def decorated():
        barrier.wait(10)
        barrier.wait(10)
        return numnet.is_grad_enabled()

    def other():
        with numnet.set_grad_enabled(True):
            with ctx:
                barrier.wait(10)
                seen["other inside"] = numnet.is_grad_enabled()
            seen["other after"] = numnet.is_grad_enabled()
            barrier.wait(10)

    t = threading.Thread(target=other)
    t.start()
    with numnet.set_grad_enabled(True):
        seen["main inside"] = decorated()
        seen["main after"] = numnet.is_grad_enabled()
    t.join(10)
    assert seen == {
        "other inside": False, "other after": True, "main inside": False, "main after": True,
    }


# -- decorators --------------------------------------------------------------------------------
@pytest.mark.parametrize("lib_name", LIBS)
def test_bare_and_called_decorators(lib_name):
    lib = _lib(lib_name)

    @lib.no_grad
    def bare_off():
        """Docstring kept."""
        return lib.is_grad_enabled()

    @lib.no_grad()
    def called_off():
        return lib.is_grad_enabled()

    @lib.enable_grad
    def bare_on():
        return lib.is_grad_enabled()

    @lib.enable_grad()
    def called_on():
        return lib.is_grad_enabled()

    @lib.set_grad_enabled(False)
    def set_off():
        return lib.is_grad_enabled()

    assert lib.is_grad_enabled()  # decorating with set_grad_enabled(False) changed nothing
    assert bare_off.__name__ == "bare_off" and bare_off.__doc__ == "Docstring kept."
    assert (bare_off(), called_off(), bare_on(), called_on(), set_off()) == (
        False, False, True, True, False,
    )
    assert lib.is_grad_enabled()
    with lib.no_grad():
        assert (bare_on(), called_on(), bare_off()) == (True, True, False)
        assert not lib.is_grad_enabled()
    assert lib.is_grad_enabled()


def test_bare_decorators_record_nothing_and_records_again():
    w = numnet.ones(3, requires_grad=True)

    @numnet.no_grad
    def predict(x):
        return (w * x).sum()

    @numnet.enable_grad
    def loss(x):
        return (w * x).sum()

    assert not predict(numnet.ones(3)).requires_grad
    with numnet.no_grad():
        out = loss(numnet.ones(3))
    assert out.requires_grad
    out.backward()
    np.testing.assert_array_equal(w.grad.data, [1.0, 1.0, 1.0])


@pytest.mark.parametrize("lib_name", LIBS)
def test_recursive_decorated_calls_restore_each_level(lib_name):
    lib = _lib(lib_name)

    @lib.enable_grad
    def on(n):
        return [lib.is_grad_enabled(), *off(n - 1)] if n else [lib.is_grad_enabled()]

    @lib.no_grad()
    def off(n):
        return [lib.is_grad_enabled(), *on(n - 1)] if n else [lib.is_grad_enabled()]

    assert off(4) == [False, True, False, True, False]
    assert lib.is_grad_enabled()


@pytest.mark.parametrize("lib_name", LIBS)
@pytest.mark.parametrize("kind", ["no_grad", "no_grad()", "enable_grad", "set_grad_enabled"])
def test_decorated_generator_runs_each_step_in_the_mode(lib_name, kind):
    lib = _lib(lib_name)
    make, mode = {  # lazily: set_grad_enabled(False) switches the mode when called
        "no_grad": (lambda: lib.no_grad, False),
        "no_grad()": (lambda: lib.no_grad(), False),
        "enable_grad": (lambda: lib.enable_grad, True),
        "set_grad_enabled": (lambda: lib.set_grad_enabled(False), False),
    }[kind]
    decorate = make()

    @decorate
    def steps():
        received = yield lib.is_grad_enabled()
        try:
            yield received, lib.is_grad_enabled()
        except KeyError:
            yield "thrown", lib.is_grad_enabled()
        return "done"

    caller = not mode
    with lib.set_grad_enabled(caller):
        gen = steps()
        assert next(gen) is mode
        assert lib.is_grad_enabled() is caller  # the caller's mode between steps
        assert gen.send("x") == ("x", mode)
        assert gen.throw(KeyError("k")) == ("thrown", mode)
        assert lib.is_grad_enabled() is caller
        with pytest.raises(StopIteration) as stop:
            next(gen)
        assert stop.value.value == "done"
        assert lib.is_grad_enabled() is caller
    assert lib.is_grad_enabled()


# -- flags, compared with torch ------------------------------------------------------------------
def _scenarios(lib) -> dict[str, bool]:
    """``is_grad_enabled()`` in nested blocks and after the function form."""
    out = {"top": lib.is_grad_enabled()}
    with lib.no_grad():
        out["no_grad"] = lib.is_grad_enabled()
        with lib.enable_grad():
            out["no_grad > enable_grad"] = lib.is_grad_enabled()
            with lib.set_grad_enabled(False):
                out["no_grad > enable_grad > set(False)"] = lib.is_grad_enabled()
            out["no_grad > enable_grad, after"] = lib.is_grad_enabled()
        with lib.set_grad_enabled(True):
            out["no_grad > set(True)"] = lib.is_grad_enabled()
        out["no_grad, after"] = lib.is_grad_enabled()
    ctx = lib.no_grad()
    with ctx:  # one instance entered twice in a row
        out["ctx"] = lib.is_grad_enabled()
    with lib.no_grad(), ctx:
        out["no_grad > ctx"] = lib.is_grad_enabled()
    out["after ctx"] = lib.is_grad_enabled()
    with lib.no_grad() as value:
        out["no_grad as"] = value
    with lib.set_grad_enabled(False) as value:
        out["set_grad_enabled as"] = value
    lib.set_grad_enabled(False)  # the function form: takes effect at once
    out["after set_grad_enabled(False)"] = lib.is_grad_enabled()
    with lib.enable_grad():
        out["function off > enable_grad"] = lib.is_grad_enabled()
    out["function off, after enable_grad"] = lib.is_grad_enabled()
    with lib.set_grad_enabled(True):
        out["function off > set(True)"] = lib.is_grad_enabled()
    out["function off, after set(True)"] = lib.is_grad_enabled()
    lib.set_grad_enabled(True)
    out["after set_grad_enabled(True)"] = lib.is_grad_enabled()
    return out


EXPECTED = {
    "top": True,
    "no_grad": False,
    "no_grad > enable_grad": True,
    "no_grad > enable_grad > set(False)": False,
    "no_grad > enable_grad, after": True,
    "no_grad > set(True)": True,
    "no_grad, after": False,
    "ctx": False,
    "no_grad > ctx": False,
    "after ctx": True,
    "no_grad as": None,
    "set_grad_enabled as": None,
    "after set_grad_enabled(False)": False,
    "function off > enable_grad": True,
    "function off, after enable_grad": False,
    "function off > set(True)": True,
    "function off, after set(True)": False,
    "after set_grad_enabled(True)": True,
}


def test_flags_in_nested_blocks():
    assert _scenarios(numnet) == EXPECTED
    assert numnet.is_grad_enabled()


def test_flags_in_nested_blocks_match_torch():
    torch = pytest.importorskip("torch")
    assert _scenarios(torch) == EXPECTED == _scenarios(numnet)


@pytest.mark.parametrize("kind", ["no_grad", "enable_grad", "inference_mode"])
def test_one_instance_entered_inside_itself_restores_each_level(kind):
    """numnet keeps a stack of saved modes per instance; PyTorch keeps one (``prev``),
    so there the outer exit restores the inner entry's mode (False after ``no_grad``)."""
    ctx = getattr(numnet, kind)()
    inside = kind == "enable_grad"
    for outer in (True, False):
        with numnet.set_grad_enabled(outer):
            with ctx:
                with ctx:
                    assert numnet.is_grad_enabled() is inside
                assert numnet.is_grad_enabled() is inside
            assert numnet.is_grad_enabled() is outer


@pytest.mark.parametrize("lib_name", LIBS)
@pytest.mark.parametrize("kind", ["no_grad", "enable_grad", "set_grad_enabled"])
def test_mode_restored_when_the_block_raises(lib_name, kind):
    lib = _lib(lib_name)
    make = {"no_grad": lib.no_grad, "enable_grad": lib.enable_grad,
            "set_grad_enabled": lambda: lib.set_grad_enabled(False)}[kind]
    for outer in (True, False):
        with lib.set_grad_enabled(outer):
            with pytest.raises(ValueError, match="inside"):
                with make():
                    raise ValueError("inside")
            assert lib.is_grad_enabled() is outer

            @make()
            def fails():
                raise ValueError("inside")

            with pytest.raises(ValueError, match="inside"):
                fails()
            assert lib.is_grad_enabled() is outer


@pytest.mark.parametrize("lib_name", LIBS)
@pytest.mark.parametrize("mode", [1, 0, None, "yes", 0.0, print])
def test_set_grad_enabled_mode_must_be_a_bool(lib_name, mode):
    lib = _lib(lib_name)
    with pytest.raises(TypeError, match="must be bool" if lib_name == "torch" else "a bool"):
        lib.set_grad_enabled(mode)
    assert lib.is_grad_enabled()


def test_set_grad_enabled_accepts_numpy_bool():
    with numnet.set_grad_enabled(np.bool_(False)):
        assert not numnet.is_grad_enabled()
    assert numnet.is_grad_enabled()


def test_modes_are_per_thread():
    seen = {}
    entered, release = threading.Event(), threading.Event()

    def worker():
        seen["worker"] = numnet.is_grad_enabled()
        numnet.set_grad_enabled(False)  # the function form changes this thread only
        entered.set()
        release.wait(10)

    with numnet.no_grad():
        thread = threading.Thread(target=worker)
        thread.start()
        entered.wait(10)
        seen["main"] = numnet.is_grad_enabled()
        release.set()
        thread.join(10)
    assert seen == {"worker": True, "main": False}
    assert numnet.is_grad_enabled()
