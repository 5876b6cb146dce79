"""The case ids and profile names → the cases.

Their expected OS context switches, their CPUs and how hard to sample them.
"""
