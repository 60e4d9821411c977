"""Wire dialects: GA and beta (incl. Azure preview) over one internal model (protocol.md §0.2)."""

from mockrt.core.dialects.base import Dialect
from mockrt.core.dialects.beta import Beta
from mockrt.core.dialects.ga import GA

__all__ = ["GA", "Beta", "Dialect"]
