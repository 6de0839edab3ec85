"""The built-in synthetic face set: shapes, renderers and the generator.

``generate(out_dir, scheme="300w", ...)`` is the entry point; see :mod:`.generator`.
"""
from harness.data.synth.generator import GENERATOR_VERSION, generate

__all__ = ["generate", "GENERATOR_VERSION"]
