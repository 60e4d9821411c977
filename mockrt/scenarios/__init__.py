"""Scripted response streams: what the mock "model" says and does (queued replies, matched rules,
lockstep), defined in Python or in YAML/JSON files checked against ``schema.json``."""

from mockrt.scenarios.loader import ScenarioError, load_scenario, schema, validate
from mockrt.scenarios.model import FunctionCall, Match, Output, PacingSpec, Reply, Rule, Scenario
from mockrt.scenarios.script import ScriptedBrain

__all__ = [
    "FunctionCall",
    "Match",
    "Output",
    "PacingSpec",
    "Reply",
    "Rule",
    "Scenario",
    "ScenarioError",
    "ScriptedBrain",
    "load_scenario",
    "schema",
    "validate",
]
