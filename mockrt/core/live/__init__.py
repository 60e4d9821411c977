"""GPT-Live sessions (docs/protocol.md §13): the Live API's own session kind, sans-I/O."""
