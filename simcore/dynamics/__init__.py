"""Vehicle and pedestrian motion models (Numba kernels) and vehicle parameters."""
