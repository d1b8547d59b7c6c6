"""Pictures: the Pillow top-down renderer (run pictures, animation frames), inline-SVG charts, map drawing."""
