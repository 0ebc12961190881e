"""Testing utilities: finite-difference gradient checks and the seed-000 backprop oracle."""

from numnet.testing.gradcheck import GradcheckError, float64_tensor, gradcheck
from numnet.testing.oracle import mlp_backprop

__all__ = ["GradcheckError", "float64_tensor", "gradcheck", "mlp_backprop"]
