"""The cases and this machine → raw measurements.

A run's session, pyperf workers, the machine and the steps beside the cases.
"""
