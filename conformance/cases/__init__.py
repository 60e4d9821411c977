"""The case catalogue, one module per protocol area (each module's cases register themselves on import)."""
