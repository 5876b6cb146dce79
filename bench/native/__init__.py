"""go/ and c/ → the built library and driver (build), and the bodies the workers call (bridge)."""
