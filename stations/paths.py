"""The materialized path of the unit tree, as plain strings: no model, no query.

Every unit stores the ids of its ancestors and itself as fixed-width segments ("00000001/00000007/"), so
a subtree is one indexed prefix match, tree order is path order, and a unit's center is its first segment.
"""

PATH_SEGMENT_WIDTH = 8
_STEP = PATH_SEGMENT_WIDTH + 1


def path_segment(pk: int) -> str:
    if pk >= 10**PATH_SEGMENT_WIDTH:
        raise ValueError(f"unit id {pk} does not fit a path segment of {PATH_SEGMENT_WIDTH} digits")
    return f"{pk:0{PATH_SEGMENT_WIDTH}d}/"


def path_prefixes(path: str) -> list[str]:
    """Every ancestor-or-self path of `path`, root first."""
    return [path[:end] for end in range(_STEP, len(path) + 1, _STEP)]


def root_id(path: str) -> int:
    """The id of the center at the root of `path`'s tree."""
    return int(path[:PATH_SEGMENT_WIDTH])


def path_depth(path: str) -> int:
    return len(path) // _STEP - 1


def path_length(*, depth: int) -> int:
    """The length of the path of a unit at `depth`: a prefix of that length names its ancestor there."""
    return (depth + 1) * _STEP
