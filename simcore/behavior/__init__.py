"""NPC behaviour: IDM car following along routes, path tracking, pedestrians, traffic signals."""
