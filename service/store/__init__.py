"""Persistence: the tables (`models`), the engine (`db`) and the data functions beside them."""
