"""Loading a schema's YAML without the ways YAML can hurt: a safe loader that refuses

- a key given twice in one mapping (YAML keeps the last one without a word, so a column
  declared twice would silently lose its first declaration);
- nesting deeper than :data:`MAX_DEPTH` (PyYAML's composer recurses: thousands of ``[`` end
  in a ``RecursionError``);
- aliases that expand to more than :data:`MAX_NODES` nodes (a "billion laughs" bomb: nine
  nested anchors of nine aliases each are 9^9 values once expanded, and anything that walks or
  prints them hangs).

Every refusal is a :class:`YamlProblem` naming the line and the fix.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["MAX_DEPTH", "MAX_NODES", "YamlProblem", "load_yaml"]

MAX_DEPTH = 64  # a schema needs about 5 levels
MAX_NODES = 100_000  # values after expanding aliases; a large schema has a few thousand


class YamlProblem(ValueError):
    """One problem with a YAML text, worded as "what, where; the fix"."""


class _Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` (no Python objects from tags) with the limits above."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise YamlProblem(
                    f"nesting deeper than {MAX_DEPTH} levels at line {mark.line + 1}: expected a "
                    "schema (a few levels of mappings and lists); remove the nesting")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                if key in seen:
                    raise YamlProblem(
                        f"key '{key}' appears twice in one mapping (lines {seen[key]} and "
                        f"{line}): YAML would keep only the last one; remove or rename one "
                        "of them")
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _expanded(node: Any, memo: dict[int, tuple[int, int]]) -> tuple[int, int]:
    """(values, depth) of ``node`` with every alias expanded, memoised per node, so that a bomb
    costs only its few distinct nodes to measure."""
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = (1, 1)  # a cycle (a recursive alias) counts once, and is refused anyway
    children = [] if isinstance(node, yaml.ScalarNode) else node.value \
        if isinstance(node, yaml.SequenceNode) else [c for pair in node.value for c in pair]
    parts = [_expanded(child, memo) for child in children]
    memo[key] = (1 + sum(n for n, _ in parts), 1 + max((d for _, d in parts), default=0))
    return memo[key]


def _has_cycle(node: Any, path: set[int], done: set[int]) -> bool:
    key = id(node)
    if key in path:
        return True
    if key in done or isinstance(node, yaml.ScalarNode):
        return False
    path.add(key)
    children = node.value if isinstance(node, yaml.SequenceNode) else \
        [c for pair in node.value for c in pair]
    found = any(_has_cycle(child, path, done) for child in children)
    path.discard(key)
    done.add(key)
    return found


def load_yaml(text: str) -> Any:
    """Parse ``text`` like ``yaml.safe_load``, within the limits of this module.

    Raises:
        YamlProblem: a repeated key, too deep, an alias bomb or a recursive alias.
        yaml.YAMLError: a syntax error (with its mark).
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _has_cycle(node, set(), set()):
            raise YamlProblem("an alias refers to the node that contains it (a recursive "
                              "structure): expected plain data; remove the recursive alias")
        size, depth = _expanded(node, {})
        if depth > MAX_DEPTH:
            raise YamlProblem(
                f"aliases (*name) nest the document {depth} levels deep, more than "
                f"{MAX_DEPTH}: expected a schema (a few levels); write the values out")
        if size > MAX_NODES:
            raise YamlProblem(
                f"aliases (*name) expand the document to {size:,} values, more than the "
                f"{MAX_NODES:,} a schema may hold: expected a schema, found what looks like an "
                "alias bomb; write the values out or reuse fewer anchors")
        return loader.construct_document(node)
    except RecursionError:  # a chain of aliases deeper than Python's stack
        raise YamlProblem("the document nests too deeply (through aliases): expected a "
                          "schema (a few levels); write the values out") from None
    finally:
        loader.dispose()
