"""Planar geometry: angle wrapping, oriented boxes, polygons, segments and overlap kernels."""
