"""Views of the insights app, one module per screen."""
