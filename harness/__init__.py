"""harness: honest, reproducible comparison of heatmap training objectives for faces.

Importing this package has no side effects; `harness.mm` is the plug-in package whose
import registers the project's modules in MMPose's registries.
"""
__version__ = "0.1.0"
__all__ = ["__version__"]
