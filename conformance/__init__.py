"""mockrt's conformance suite: one catalogue of cases, run against the mock, Azure OpenAI or OpenAI.

``python -m conformance --target mock|openai|azure|url`` or ``pytest conformance --target=mock``; see README.md
in this folder.
"""

from conformance.catalogue import CATALOGUE, Case, case, load_catalogue
from conformance.context import CaseSkipped, Ctx

__all__ = ["CATALOGUE", "Case", "CaseSkipped", "Ctx", "case", "load_catalogue"]
