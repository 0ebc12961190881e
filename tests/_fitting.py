"""What the training tests share: the ``train.fit`` call they repeat, and a kill switch.

``from tests._fitting import Kill, quiet_fit`` (the tests run as ``python -m pytest``).
"""

import numnet.nn.functional as F
from numnet import optim, train


def quiet_fit(model, data, *, epochs, loss_fn=F.cross_entropy, optimizer=None, lr=None, **options):
    """``train.fit(model, loss_fn, optimizer, data, epochs=epochs, verbose=0, **options)``.

    The loss is cross-entropy unless ``loss_fn`` says otherwise; without an ``optimizer``
    it is plain ``optim.SGD(model.parameters(), lr=lr)``. Everything else (``batch_size``,
    ``generator``, ``validation``, ``callbacks``, ``checkpoint``, ...) goes to ``fit`` as
    given, so a call trains exactly as the spelled-out ``train.fit`` call would.
    """
    if optimizer is None:
        if lr is None:
            raise TypeError("quiet_fit needs an optimizer= or an lr= for plain SGD")
        optimizer = optim.SGD(model.parameters(), lr=lr)
    elif lr is not None:
        raise TypeError("quiet_fit takes an optimizer= or an lr=, not both")
    return train.fit(model, loss_fn, optimizer, data, epochs=epochs, verbose=0, **options)


class Kill(train.Callback):
    """Simulates the process being killed at (epoch, batch): raises KeyboardInterrupt."""

    def __init__(self, at):
        self.at = at

    def on_batch_end(self, loop, batch, logs):
        if (loop.epoch, batch) == self.at:
            raise KeyboardInterrupt
