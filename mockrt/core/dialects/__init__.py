"""Wire dialects over one internal model (docs/protocol.md §0.2): GA, beta (incl. the Azure preview flavour)
and Azure Voice Live (beta plus Azure's extensions)."""

from mockrt.core.dialects.base import Dialect, SessionAudio
from mockrt.core.dialects.beta import Beta
from mockrt.core.dialects.ga import GA
from mockrt.core.dialects.voice_live import VoiceLive


def dialect_named(name: str | None) -> Dialect:
    """A reader for a journal or recording labelled with a dialect name (``ga`` / ``beta``): beta's reader is
    Voice Live's, which also reads what Voice Live adds to the beta shapes."""
    return VoiceLive() if name == "beta" else GA()


__all__ = ["GA", "Beta", "Dialect", "SessionAudio", "VoiceLive", "dialect_named"]
