from .fgd import FGDLoss

__all__ = ['FGDLoss']
