"""Which source files of a package a set of modules reaches through its imports (DVC code deps)."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path


def _module_file(module: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(module)
    except (ModuleNotFoundError, ValueError):  # ``from module import function``: not a module
        return None
    return Path(spec.origin) if spec and spec.origin and spec.origin.endswith(".py") else None


def imported_files(modules: set[str], package: str = "disc_grade") -> set[Path]:
    """Every ``package`` source file reachable by imports from ``modules``."""
    seen: set[Path] = set()
    queue = list(modules)
    while queue:
        name = queue.pop()
        path = _module_file(name)
        if path is None or path in seen:
            continue
        seen.add(path)
        parent = name.rsplit(".", 1)[0] if path.name != "__init__.py" else name
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:  # relative import
                    base = parent.rsplit(".", node.level - 1)[0] if node.level > 1 else parent
                    target = f"{base}.{node.module}" if node.module else base
                else:
                    target = node.module or ""
                if target.startswith(package):
                    queue.append(target)
                    queue += [f"{target}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                queue += [a.name for a in node.names if a.name.startswith(package)]
        # a package's __init__ runs on import of any submodule
        pieces = name.split(".")
        queue += [".".join(pieces[:i]) for i in range(1, len(pieces))]
    return seen
