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
