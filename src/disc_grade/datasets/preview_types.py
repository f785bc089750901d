"""Return types of ``preview()`` as kedro-viz reads them: it matches the annotation's name."""

from __future__ import annotations

from typing import NewType

ImagePreview = NewType("ImagePreview", str)  # a base64 PNG
JSONPreview = NewType("JSONPreview", str)  # a JSON document
