"""Seed 003: gradient dynamics of a deep linear network — singular modes learned in stages.

Seed 003 ("Deep linear gradients") shows that for ``y = BAx`` the gradients depend on
the data only through ``Σxx`` and ``Σxy``:
``∂L/∂A = −Bᵀ(Σxy − BAΣxx)``, ``∂L/∂B = −(Σxy − BAΣxx)Aᵀ``. With whitened inputs
the dynamics decouple along the singular modes of ``Σxy = U S Vᵀ``: from a small
initialisation, mode ``α`` (strength ``a_α = u_αᵀ BA v_α``) follows the sigmoid
``a(t) = s e^{2st} / (e^{2st} − 1 + s/a_0)`` and is learned around
``t_½ = ln(s/a_0 − 1)/(2s)``: the strongest modes first, the weak ones much later
(Saxe, McClelland & Ganguli, 2014). The loss therefore drops in stages, with plateaus.

Task: 8 items at the leaves of a depth-3 binary tree, one-hot inputs scaled so that
``Σxx/P = I``, targets = one "is below node v" feature per tree node (15). The
singular values of ``Σxy/P`` come in four levels (1.37, 0.94, 0.61 ×2, 0.35 ×4).
Network 8 → 16 → 15, weights ``N(0, 10⁻⁶)``, full-batch gradient descent (step
0.05) on ``1/(2P) Σ‖y − BAx‖²`` with :func:`numnet.train.fit`; a
:class:`~numnet.deep_linear.LinearDynamicsRecorder` records every step. The
closed-form gradients are checked against autodiff at initialisation.
"""

from __future__ import annotations

import numpy as np

from numnet.experiments._common import Recipe, output_dir, write_json

NAME = "deep-linear-dynamics"
DESCRIPTION = "stage-like learning of Σxy's singular modes by a 2-layer linear net (Saxe et al.)"

DEPTH, HIDDEN, INIT, LR, STEPS = 3, 16, 1e-3, 0.05, 800


def _autodiff_check(net, X, Y) -> float:
    """Largest |closed form − autodiff| over both layers, for ``½ Σ‖y − BAx‖²`` (float64)."""
    from numnet.deep_linear import closed_form_gradients, correlations
    from numnet.tensor import Tensor

    A, B = (p.data for p in net.parameters())
    At, Bt = (
        Tensor(A, dtype=np.float64, requires_grad=True),
        Tensor(B, dtype=np.float64, requires_grad=True),
    )
    Xt, Yt = Tensor(X, dtype=np.float64), Tensor(Y, dtype=np.float64)
    diff = Yt - Xt @ At.T @ Bt.T
    (0.5 * (diff * diff).sum()).backward()
    dA, dB = closed_form_gradients(A, B, *correlations(X.astype(np.float64), Y))
    return float(max(np.abs(dA - At.grad).max(), np.abs(dB - Bt.grad).max()))


def run(out_dir, *, quick: bool = False, data_dir=None, seed: int = 0) -> dict:
    """Train the linear network, record its modes, compare with the analytic sigmoids."""
    out = output_dir(out_dir)
    r = compute(steps=500 if quick else STEPS, seed=seed)
    P, n_out = r["X"].shape[0], r["Y"].shape[1]
    write_json(
        out / "results.json",
        {
            "task": f"binary tree of depth {DEPTH}: {P} items, {n_out} features",
            "network": f"{P}-{HIDDEN}-{n_out} linear, init N(0, {INIT}^2)",
            "learning_rate": LR,
            "steps": r["steps"],
            "closed_form_vs_autodiff_max_abs_error": r["grad_error"],
            "initial_strength_a0": r["a0"],
            "modes": r["modes"],
            "final_loss": float(r["loss"][-1]),
            "seed_claim": "dL/dA = -B^T(Sxy - BA Sxx), dL/dB = -(Sxy - BA Sxx) A^T; "
            "gradient dynamics (seed 003, part 1c)",
        },
    )
    _plot(r["recorder"], r["a0"], r["loss"], out / "deep_linear_dynamics.png")
    halves = [m["half_time_steps"] for m in r["modes"]]
    return {
        "closed_form_vs_autodiff": r["grad_error"],
        "half_time_steps": halves,
        "predicted": [round(m["predicted_half_time_steps"]) for m in r["modes"]],
        "stages_in_order": _stages_in_order(halves, r["recorder"].target_singular_values),
    }


def compute(*, steps: int, seed: int) -> dict:
    """Train on the hierarchical task with full-batch GD, recording every step."""
    from numnet import optim
    from numnet.autoencoder import reconstruction_loss
    from numnet.deep_linear import (
        DeepLinearNetwork,
        LinearDynamicsRecorder,
        correlations,
        hierarchical_task,
    )

    X, Y = (a.astype(np.float64) for a in hierarchical_task(DEPTH))
    P = len(X)
    Sxy = correlations(X, Y)[1] / P
    net = DeepLinearNetwork(
        (P, HIDDEN, Y.shape[1]), init_scale=INIT, generator=seed, dtype=np.float64
    )
    grad_error = _autodiff_check(net, X, Y)
    recorder = LinearDynamicsRecorder(every=1, target=Sxy)
    history = Recipe(steps, P).fit(
        net, reconstruction_loss, optim.SGD(net.parameters(), lr=LR), (X, Y),
        shuffle=False, callbacks=[recorder],
    )
    a0 = INIT**2 * np.sqrt(HIDDEN)  # typical |u_αᵀ B A v_α| at initialisation
    return {
        "X": X, "Y": Y, "steps": steps, "grad_error": grad_error, "recorder": recorder,
        "a0": a0, "modes": _modes(recorder, a0), "loss": np.asarray(history["loss"]),
    }


def _modes(recorder, a0: float) -> list[dict]:
    """Each singular mode's measured and predicted half time (a = s/2), final strength."""
    from numnet.deep_linear import mode_half_time

    s, a, t = recorder.target_singular_values, recorder.mode_strengths, recorder.steps
    modes = []
    for i, s_i in enumerate(s):
        reached = np.flatnonzero(a[:, i] >= s_i / 2)
        measured = int(t[reached[0]]) if reached.size else None
        predicted = float(mode_half_time(s_i, a0) / LR)
        modes.append(
            {
                "mode": i + 1,
                "singular_value": float(s_i),
                "half_time_steps": measured,
                "predicted_half_time_steps": predicted,
                "final_strength": float(a[-1, i]),
            }
        )
        print(
            f"mode {i + 1}: s = {s_i:.3f}, learned (a = s/2) at step {measured}, "
            f"theory {predicted:.0f}",
            flush=True,
        )
    return modes


def _stages_in_order(halves, s) -> bool:
    """Whether the levels of singular values are learned strongest first."""
    if None in halves:
        return False
    level_times = [
        np.mean([h for h, v in zip(halves, s) if np.isclose(v, lv)])
        for lv in np.unique(np.round(s, 6))[::-1]
    ]
    return bool(level_times) and bool(np.all(np.diff(level_times) > 0))


def _plot(recorder, a0, loss, path) -> None:
    from numnet.deep_linear import mode_strength
    from numnet.viz import new_figure, save_figure

    s, a, t = recorder.target_singular_values, recorder.mode_strengths, recorder.steps
    fig, axes = new_figure(2, 2, size=(11, 7.5))
    ax = axes[0, 0]
    levels = np.unique(np.round(s, 6))[::-1]
    colors = {lv: f"C{k}" for k, lv in enumerate(levels)}
    for i, s_i in enumerate(s):
        c = colors[np.round(s_i, 6)]
        first = i == 0 or np.round(s_i, 6) != np.round(s[i - 1], 6)
        ax.plot(t, a[:, i], color=c, lw=1.2, label=f"s = {s_i:.2f}" if first else None)
        ax.plot(t, mode_strength(s_i, a0, LR * t), color=c, ls=":", lw=1)
    ax.set(
        xlabel="gradient step",
        ylabel="mode strength $u_α^T BA v_α$",
        title="modes of Σxy (solid: measured, dotted: theory)",
    )
    ax.legend(fontsize=7)
    ax = axes[0, 1]
    ax.plot(t, recorder.singular_values[:, : len(s)], lw=1)
    ax.set(
        xlabel="gradient step",
        ylabel="singular values of BA",
        title="end-to-end product BA (LinearDynamicsRecorder)",
    )
    ax = axes[1, 0]
    norms = recorder.layer_norms
    for j, name in enumerate(("A (first layer)", "B (second layer)")):
        ax.plot(t, norms[:, j], label=f"‖{name}‖_F")
    ax.set(xlabel="gradient step", ylabel="Frobenius norm", title="per-layer norms")
    ax.legend(fontsize=8)
    ax = axes[1, 1]
    ax.plot(np.arange(1, len(loss) + 1), loss)
    ax.set(
        xlabel="gradient step", ylabel="1/(2P) Σ‖y − BAx‖²", title="loss: plateaus between stages"
    )
    fig.tight_layout()
    save_figure(fig, path)
