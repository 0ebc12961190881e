"""``numnet.inference_mode``: torch's flags and signature, with no_grad's recording."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import numnet


def _flags(lib) -> tuple[bool, bool]:
    return lib.is_grad_enabled(), lib.is_inference_mode_enabled()


def _scenarios(lib) -> dict[str, tuple[bool, bool]]:
    """(grad enabled, inference mode) in nested blocks, for numnet or torch."""
    out = {"top": _flags(lib)}
    with lib.inference_mode():
        out["inference"] = _flags(lib)
        with lib.enable_grad():
            out["inference > enable_grad"] = _flags(lib)
        with lib.no_grad():
            out["inference > no_grad"] = _flags(lib)
        with lib.inference_mode(False):
            out["inference > inference(False)"] = _flags(lib)
        with lib.set_grad_enabled(True):
            out["inference > set_grad_enabled(True)"] = _flags(lib)
        out["inference, after the inner blocks"] = _flags(lib)
    with lib.no_grad():
        with lib.inference_mode(False):  # PyTorch's guard sets grad mode to `not mode`
            out["no_grad > inference(False)"] = _flags(lib)
        with lib.inference_mode(mode=True):
            out["no_grad > inference"] = _flags(lib)
        out["no_grad, after"] = _flags(lib)
    with lib.inference_mode(False):
        out["inference(False)"] = _flags(lib)
    out["after"] = _flags(lib)
    return out


EXPECTED = {
    "top": (True, False),
    "inference": (False, True),
    "inference > enable_grad": (True, True),
    "inference > no_grad": (False, True),
    "inference > inference(False)": (True, False),
    "inference > set_grad_enabled(True)": (True, True),
    "inference, after the inner blocks": (False, True),
    "no_grad > inference(False)": (True, False),
    "no_grad > inference": (False, True),
    "no_grad, after": (False, False),
    "inference(False)": (True, False),
    "after": (True, False),
}


def test_flags_in_nested_blocks():
    assert _scenarios(numnet) == EXPECTED


def test_flags_in_nested_blocks_match_torch():
    torch = pytest.importorskip("torch")
    assert _scenarios(torch) == EXPECTED == _scenarios(numnet)


def test_ops_inside_do_not_record_and_results_stay_usable_in_autograd():
    w = numnet.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with numnet.inference_mode():
        y = w * 2
        assert not y.requires_grad and y.grad_fn is None
    np.testing.assert_array_equal(y.data, [2.0, 4.0, 6.0])
    # numnet has no inference tensors: y is an ordinary Tensor (PyTorch would raise here)
    (w * y).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [2.0, 4.0, 6.0])


def test_enable_grad_inside_records_again_like_inside_no_grad():
    """The documented difference: PyTorch never records in inference mode."""
    w = numnet.ones(2, requires_grad=True)
    with numnet.inference_mode(), numnet.enable_grad():
        y = (w * 3).sum()
    assert y.requires_grad
    y.backward()
    np.testing.assert_array_equal(w.grad.data, [3.0, 3.0])


def test_mode_false_records_even_inside_no_grad():
    w = numnet.ones(2, requires_grad=True)
    with numnet.no_grad(), numnet.inference_mode(False):
        assert (w * 2).requires_grad


@pytest.mark.parametrize("lib_name", ["numnet", "torch"])
def test_decorator_with_and_without_parentheses(lib_name):
    lib = numnet if lib_name == "numnet" else pytest.importorskip("torch")

    @lib.inference_mode
    def bare():
        """Docstring kept."""
        return _flags(lib)

    @lib.inference_mode()
    def called():
        return _flags(lib)

    @lib.inference_mode(False)
    def off():
        return _flags(lib)

    assert bare() == called() == (False, True)
    assert bare.__name__ == "bare" and bare.__doc__ == "Docstring kept."
    with lib.no_grad():
        assert off() == (True, False)
        assert _flags(lib) == (False, False)
    assert _flags(lib) == (True, False)


def test_decorated_function_records_nothing():
    w = numnet.ones(3, requires_grad=True)

    @numnet.inference_mode()
    def predict(x):
        return (w * x).sum()

    out = predict(numnet.ones(3))
    assert not out.requires_grad and out.item() == 3.0


@pytest.mark.parametrize("lib_name", ["numnet", "torch"])
def test_decorated_generator_runs_each_step_in_inference_mode(lib_name):
    lib = numnet if lib_name == "numnet" else pytest.importorskip("torch")

    @lib.inference_mode()
    def steps():
        received = yield _flags(lib)
        yield received, _flags(lib)
        return "done"

    gen = steps()
    assert next(gen) == (False, True)
    assert _flags(lib) == (True, False)  # the caller's mode between steps
    assert gen.send("x") == ("x", (False, True))
    with pytest.raises(StopIteration) as stop:
        next(gen)
    assert stop.value.value == "done"
    assert _flags(lib) == (True, False)


def test_exception_thrown_into_decorated_generator_reaches_it():
    @numnet.inference_mode()
    def steps():
        try:
            yield 1
        except KeyError:
            yield _flags(numnet)

    gen = steps()
    next(gen)
    assert gen.throw(KeyError("k")) == (False, True)
    gen.close()
    assert _flags(numnet) == (True, False)


def test_flags_restored_when_the_block_raises():
    with pytest.raises(ValueError, match="inside"):
        with numnet.inference_mode():
            raise ValueError("inside")
    assert _flags(numnet) == (True, False)


def test_recursive_decorated_calls_restore_each_level():
    @numnet.inference_mode
    def depth(n):
        if n == 0:
            return [_flags(numnet)]
        return [_flags(numnet), *depth(n - 1)]

    assert depth(3) == [(False, True)] * 4
    assert _flags(numnet) == (True, False)


def test_modes_are_per_thread():
    seen = {}
    entered, release = threading.Event(), threading.Event()

    def worker():
        seen["before"] = _flags(numnet)
        entered.set()
        release.wait(10)

    with numnet.inference_mode():
        thread = threading.Thread(target=worker)
        thread.start()
        entered.wait(10)
        seen["main"] = _flags(numnet)
        release.set()
        thread.join()
    assert seen == {"before": (True, False), "main": (False, True)}


def test_concurrent_calls_of_one_decorated_function_do_not_share_state():
    barrier = threading.Barrier(2)
    results = []

    @numnet.inference_mode()
    def work():
        barrier.wait(10)  # both threads inside at once
        return _flags(numnet)

    def run(grad_on):
        with numnet.set_grad_enabled(grad_on):
            inside = work()
            results.append((grad_on, inside, _flags(numnet)))

    threads = [threading.Thread(target=run, args=(mode,)) for mode in (True, False)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [
        (False, (False, True), (False, False)),
        (True, (False, True), (True, False)),
    ]


@pytest.mark.parametrize("mode", [1, None, "yes", 0.0])
def test_mode_must_be_a_bool(mode):
    with pytest.raises(TypeError, match="mode must be a bool"):
        numnet.inference_mode(mode)


def test_numpy_bool_is_accepted_and_signature_matches_torch():
    import inspect

    with numnet.inference_mode(np.bool_(True)):
        assert numnet.is_inference_mode_enabled()
    params = inspect.signature(numnet.inference_mode).parameters
    assert list(params) == ["mode"] and params["mode"].default is True
    assert "inference_mode" in numnet.__all__ and "is_inference_mode_enabled" in numnet.__all__
    assert numnet.inference_mode is numnet.autograd.inference_mode
