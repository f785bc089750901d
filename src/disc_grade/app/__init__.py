"""The ``disc-grade`` command's work, apart from its options: grade a folder with a bundle
(``run``), write what a person reads (``outputs``, ``pages``)."""
