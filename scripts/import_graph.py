"""The import graph of the plugin's package: prints each cycle and each module that is too
long, and exits non-zero when there is one.

    python scripts/import_graph.py [--dot]

Every import of the package counts, whether at module level, inside a function or under
``if TYPE_CHECKING`` (a type-only cycle is still two modules that cannot be read apart).
``names.py`` and ``errors.py`` must import nothing of the package: they are where shared
names live.

The package's sub-packages (and root modules) are layered, highest first (``LAYERS``): a
module imports from its own sub-package or from a lower layer, never from a higher one, so
that each layer can be read, and tested, without the ones above it. The package root holds at
most ``MAX_ROOT_MODULES`` modules: everything else lives in the sub-package of its concern.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = "poetry_docker_plugin"
SOURCE = Path(__file__).resolve().parent.parent / "src" / PACKAGE
MAX_LINES = 400
LEAVES = (f"{PACKAGE}.names", f"{PACKAGE}.errors")
MAX_ROOT_MODULES = 10
# Highest first. Each line: the sub-package (or root module) and why it sits there.
LAYERS = (
    "plugin",  # registers the commands with Poetry
    "commands",  # thin: options in, the pipeline called, messages out
    "devcontainer",  # devcontainer.json from the development plan
    "pipeline",  # one image's stages in order, the engine's build, tags, publishing
    "freshness",  # is the image current: its inputs, fingerprint, record, kept renderings
    "render",  # the plan as the build context's files (templates, in-image resources)
    "sources",  # which of the project's files reach the image, their digests, its wheel
    "plan",  # every decision about the image, from values
    "conda_lock",  # poetry-docker.lock, the file
    "system",  # what the image's operating system must provide
    "lock",  # poetry.lock, read once into values
    "project",  # the project as Poetry and pyproject.toml give it, its settings and cache
    "engine",  # every call to docker or podman, nothing of the domain
    "util",  # helpers that know nothing of images
    "platforms",  # target platforms as values
    "names",  # shared names (a leaf)
    "errors",  # the errors commands turn into messages (a leaf)
)


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The package's modules that ``path`` imports (a package's ``__init__`` counts as the
    package; ``from package import module`` as the module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name in modules} - {module_name(path)}


def graph() -> dict[str, set[str]]:
    paths = sorted(SOURCE.rglob("*.py"))
    modules = {module_name(path) for path in paths}
    return {module_name(path): imports_of(path, modules) for path in paths}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def layer_of(module: str) -> str:
    """The sub-package (or root module) a module belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    """Each import from a lower layer to a higher one, and each part of the package that is in
    no layer."""
    found = []
    for source in sorted(edges):
        source_layer = layer_of(source)
        if source_layer == "__init__":
            continue
        if source_layer not in LAYERS:
            found.append(f"{source} is in no layer: add {source_layer!r} to LAYERS")
            continue
        for target in sorted(edges[source]):
            target_layer = layer_of(target)
            if target_layer in LAYERS and LAYERS.index(target_layer) < LAYERS.index(source_layer):
                found.append(f"{source} imports {target}, a higher layer ({target_layer})")
    return found


def root_modules() -> list[str]:
    return sorted(path.name for path in SOURCE.glob("*.py"))


def problems() -> list[str]:
    edges = graph()
    found = [f"import cycle: {' <-> '.join(cycle)}" for cycle in cycles(edges)]
    found += upward_imports(edges)
    if len(root_modules()) > MAX_ROOT_MODULES:
        found.append(
            f"the package root holds {len(root_modules())} modules (> {MAX_ROOT_MODULES}): "
            + ", ".join(root_modules())
        )
    found += [f"{leaf} imports {', '.join(sorted(edges[leaf]))}" for leaf in LEAVES if edges[leaf]]
    for path in sorted(SOURCE.rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            found.append(f"{path.relative_to(SOURCE.parent)} has {lines} lines (> {MAX_LINES})")
    return found


def main(arguments: list[str]) -> int:
    if "--dot" in arguments:
        print("digraph imports {")
        for source, targets in sorted(graph().items()):
            for target in sorted(targets):
                print(f'  "{source}" -> "{target}";')
        print("}")
        return 0
    found = problems()
    for problem in found:
        print(problem)
    if not found:
        print(
            f"{len(graph())} modules in {len(LAYERS)} layers, no import cycle, no upward import,"
            f" none over {MAX_LINES} lines"
        )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
