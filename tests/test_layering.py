"""Source checks: HDF5 is written only through irpipe.io.hdf5_writer."""
from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

SOURCE_DIRS = ("irpipe", "workflow_scripts")


def _sources() -> list[Path]:
    return sorted(p for d in SOURCE_DIRS for p in (REPO / d).rglob("*.py"))


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _enclosing_function(node: ast.AST, parents: dict) -> str:
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return node.name
    return "<module>"


def _call_name(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def _h5_write_opens(tree: ast.AST) -> list[ast.Call]:
    """Calls to ``<x>.File(...)`` / ``File(...)`` whose mode is anything but a literal 'r'
    (h5py's default mode is 'r'; a mode computed at run time counts as a write)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _call_name(node) == "File":
            mode = node.args[1] if len(node.args) > 1 else next(
                (k.value for k in node.keywords if k.arg == "mode"), None)
            if mode is not None and not (isinstance(mode, ast.Constant) and mode.value == "r"):
                found.append(node)
    return found


def hdf5_writer_callers() -> set[str]:
    """Names of the functions under irpipe/ and workflow_scripts/ that call hdf5_writer."""
    names = set()
    for path in _sources():
        tree = ast.parse(path.read_text(), str(path))
        parents = _parents(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node) == "hdf5_writer":
                names.add(_enclosing_function(node, parents))
    return names


def test_hdf5_is_written_only_through_the_one_writer():
    offenders = []
    for path in _sources():
        tree = ast.parse(path.read_text(), str(path))
        parents = _parents(tree)
        for call in _h5_write_opens(tree):
            where = (path.relative_to(REPO).as_posix(), _enclosing_function(call, parents))
            if where != ("irpipe/io.py", "hdf5_writer"):
                offenders.append(f"{where[0]}:{call.lineno} ({where[1]})")
    assert offenders == [], f"HDF5 opened for writing outside irpipe.io.hdf5_writer: {offenders}"


def test_the_scan_sees_a_write_open():
    """The scanner itself: a write-mode open is found, a read is not."""
    tree = ast.parse("import h5py\nh5py.File(p, 'w')\nh5py.File(p, mode='a')\nh5py.File(p, 'r')\n"
                     "h5py.File(p)\nh5py.File(p, m)\n")
    assert [c.lineno for c in _h5_write_opens(tree)] == [2, 3, 6]
    assert hdf5_writer_callers() >= {"write_arrays", "write_predictions", "extract_dataset"}


# ---------------------------------------------------------------------------------------
# Layers: a package imports only from its own layer's package or lower layers
# (docs/ARCHITECTURE.md, "Layers").
# ---------------------------------------------------------------------------------------
LAYERS = [
    {"errors"},
    {"io"},
    {"config", "checkpoints", "devices"},
    {"data"},
    {"flow", "eval", "models"},
    {"features", "train"},
    {"fusion", "detection"},
    {"report"},
    {"tracking"},
    {"size_plan"},
    {"workflow", "cli", "workflow_logic"},
]
LEVEL = {name: i for i, names in enumerate(LAYERS) for name in names}


def _unit(parts: tuple[str, ...]) -> str:
    """The layer unit of a module path inside irpipe: its subpackage or top-level module."""
    return parts[0]


def irpipe_imports(path: Path) -> list[tuple[int, tuple[str, ...]]]:
    """(line, module path below irpipe) of every irpipe import of a module, lazy ones included."""
    rel = path.relative_to(REPO / "irpipe").with_suffix("").parts
    package = rel[:-1]  # the package the module lives in (for __init__ too: its own folder)
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
            target = base + tuple(node.module.split(".")) if node.module else None
            if target is None:  # "from . import x" / "from .. import x"
                out += [(node.lineno, base + (a.name,)) for a in node.names]
            else:
                out.append((node.lineno, target))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "irpipe":
            out.append((node.lineno, tuple(node.module.split(".")[1:])))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, tuple(a.name.split(".")[1:])) for a in node.names
                    if a.name.split(".")[0] == "irpipe"]
    return [(line, t) for line, t in out if t]


def layer_violations() -> list[str]:
    bad = []
    for path in sorted((REPO / "irpipe").rglob("*.py")):
        rel = path.relative_to(REPO / "irpipe").with_suffix("").parts
        if rel == ("__init__",):
            continue
        src = _unit(rel)
        if src not in LEVEL:
            bad.append(f"irpipe/{'/'.join(rel)}.py: package '{src}' has no layer in LAYERS")
            continue
        for line, target in irpipe_imports(path):
            dst = _unit(target)
            if dst == src:
                continue
            if dst not in LEVEL:
                bad.append(f"irpipe/{'/'.join(rel)}.py:{line} imports unknown irpipe.{dst}")
            elif LEVEL[dst] >= LEVEL[src]:
                bad.append(f"irpipe/{'/'.join(rel)}.py:{line}: {src} (layer {LEVEL[src]}) imports "
                           f"irpipe.{'.'.join(target)} (layer {LEVEL[dst]})")
    return bad


def test_lower_layers_never_import_higher_ones():
    assert layer_violations() == []


def test_every_package_has_a_layer():
    units = {p.relative_to(REPO / "irpipe").parts[0].removesuffix(".py")
             for p in (REPO / "irpipe").iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    assert units - {"__init__"} == set(LEVEL)


def test_the_import_parser(tmp_path, monkeypatch):
    """Relative, absolute and lazy imports resolve to the right package; an upward import of
    a lower layer is reported."""
    root = tmp_path / "repo"
    (root / "irpipe" / "models").mkdir(parents=True)
    mod = root / "irpipe" / "models" / "m.py"
    mod.write_text("from ..train.x import y\nfrom . import c3d\nimport irpipe.io\n"
                   "def f():\n    from irpipe.report import tables\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["REPO"]), "REPO", root)
    assert sorted(irpipe_imports(mod)) == [(1, ("train", "x")), (2, ("models", "c3d")), (3, ("io",)),
                                           (5, ("report",))]
    found = layer_violations()
    assert any("models/m.py:1" in v and "irpipe.train.x" in v for v in found), found
    assert any("models/m.py:5" in v and "irpipe.report" in v for v in found), found
    assert not any("models/m.py:3" in v for v in found)


def test_workflow_scripts_import_what_exists():
    """Every ``from irpipe... import name`` in workflow_scripts/ (lazy ones too) resolves: the
    scripts only run under Snakemake, so a moved function would otherwise surface in a job."""
    import importlib

    missing = []
    for path in sorted((REPO / "workflow_scripts").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "irpipe":
                module = importlib.import_module(node.module)
                for alias in node.names:
                    if not hasattr(module, alias.name):
                        try:
                            importlib.import_module(f"{node.module}.{alias.name}")
                        except ImportError:
                            missing.append(f"{path.name}:{node.lineno} {node.module}.{alias.name}")
    assert missing == []


def test_rules_do_not_write_hdf5():
    """Python inside rules/ (not parseable as a module) is checked for h5py use by text."""
    hits = [f"{p.name}:{i}" for p in sorted((REPO / "rules").glob("*.smk")) + [REPO / "Snakefile"]
            for i, line in enumerate(p.read_text().splitlines(), 1) if "h5py" in line]
    assert hits == []
