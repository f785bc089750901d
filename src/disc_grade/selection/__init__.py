"""Choosing what ships: the one rule every keep-or-drop decision calls (``gate``)."""
