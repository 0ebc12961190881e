"""Utilities with PyTorch's names: :mod:`numnet.utils.data` (``Dataset``, ``DataLoader``...)
and :func:`summary` (a per-layer table of a model, also ``numnet.summary``)."""

from numnet.utils import data
from numnet.utils.model_summary import LayerInfo, ModelSummary, summary

__all__ = ["LayerInfo", "ModelSummary", "data", "summary"]
