"""Optimizers and learning-rate schedules with PyTorch's names.

Every algorithm is a per-parameter update function on arrays (``sgd_update``,
``rmsprop_update``, ``adam_update``, ``adamw_update``) plus a thin
:class:`Optimizer` subclass that applies it to each parameter::

    opt = numnet.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = numnet.optim.lr_scheduler.SeedAnnealingLR(opt, k0=100)
    for x, y in batches:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
        sched.step()
"""

from numnet.optim import lr_scheduler
from numnet.optim.adam import Adam, AdamW, adam_update, adamw_update
from numnet.optim.lbfgs import LBFGS, LBFGSResult
from numnet.optim.lr_scheduler import (
    ChainedScheduler,
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LRScheduler,
    SeedAnnealingLR,
    SequentialLR,
    StepLR,
    constant_lr,
    cosine_annealing_lr,
    exponential_lr,
    lambda_lr,
    seed_annealing_lr,
    step_lr,
)
from numnet.optim.optimizer import Optimizer
from numnet.optim.rmsprop import RMSprop, rmsprop_update
from numnet.optim.sgd import SGD, sgd_update

__all__ = [
    "LBFGS",
    "SGD",
    "Adam",
    "AdamW",
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingLR",
    "ExponentialLR",
    "LBFGSResult",
    "LRScheduler",
    "LambdaLR",
    "Optimizer",
    "RMSprop",
    "SeedAnnealingLR",
    "SequentialLR",
    "StepLR",
    "adam_update",
    "adamw_update",
    "constant_lr",
    "cosine_annealing_lr",
    "exponential_lr",
    "lambda_lr",
    "lr_scheduler",
    "rmsprop_update",
    "seed_annealing_lr",
    "sgd_update",
    "step_lr",
]
