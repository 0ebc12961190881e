import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def row_block_digits():
    """A writer of tiny MNIST-shaped IDX files: ``write(root, n_train, n_test)``.

    28x28 uint8 'digits' where class k lights up rows 2k..2k+2 over noise below 60, in
    ``train-*`` and ``t10k-*`` gzip IDX files under ``root``, which it returns. Seeded:
    the same sizes give the same bytes.
    """
    from numnet.data import write_idx

    def write(root, n_train: int, n_test: int):
        rng = np.random.default_rng(0)
        for prefix, n in (("train", n_train), ("t10k", n_test)):
            y = rng.integers(0, 10, n).astype(np.uint8)
            X = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
            for i, k in enumerate(y):
                X[i, 2 * k : 2 * k + 3, :] = 255
            write_idx(root / f"{prefix}-images-idx3-ubyte.gz", X)
            write_idx(root / f"{prefix}-labels-idx1-ubyte.gz", y)
        return root

    return write
