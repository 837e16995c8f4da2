"""`cofi synth`: a believable synthetic population with planted conflicts, near misses and truth.

See `generate.py` for the population and the plants, `evaluate.py` for measuring a sweep against the
planted truth, `kazakh.py` for the Faker provider of Kazakh names and identifiers.
"""

from __future__ import annotations

from cofi.synth.generate import NEAR_MISSES, PLANTED, SCALES, Scale, generate

__all__ = ["NEAR_MISSES", "PLANTED", "SCALES", "Scale", "generate"]
