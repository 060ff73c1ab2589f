"""The verdict as a JSON schema, for engines that can constrain their answer to one.

The same object the prompt asks for in words. The base judge builds it once per engine whose
class `supports_schema` and hands it over as `prompt.schema`; the answer still goes through the
one parser, which also copes with servers that ignore the schema.
"""

from __future__ import annotations

from inspector.recipes import Recipe

SCHEMA_NAME = "inspection_verdict"


def verdict_schema(recipe: Recipe, box_key: str = "box") -> dict:
    """JSON schema of a verdict; `box_key` is "box_2d" for Gemini (its [y0, x0, y1, x1])."""
    names = [d.name for d in recipe.defects]
    class_schema: dict = {"type": "string", "enum": names} if names else {"type": "string"}
    defect = {
        "type": "object",
        "properties": {
            "class": class_schema,
            box_key: {
                "type": ["array", "null"],
                "items": {"type": "number"},
                "minItems": 4,
                "maxItems": 4,
            },
            "confidence": {"type": "number"},
        },
        "required": ["class", box_key, "confidence"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "outcome": {"type": "string", "enum": ["PASS", "FAIL", "UNSURE"]},
            "defects": {"type": "array", "items": defect},
            "confidence": {"type": "number"},
            "reason": {"type": "string"},
        },
        "required": ["outcome", "defects", "confidence", "reason"],
        "additionalProperties": False,
    }
