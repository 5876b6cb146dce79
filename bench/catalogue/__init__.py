"""The case ids and profile names → the cases, their expected OS context switches, their CPUs and how hard to sample them."""
