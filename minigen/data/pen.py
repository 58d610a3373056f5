"""Pen trajectories from MNIST digits: the data of Bishop's HMM for handwriting (PRML 13.2, fig. 13.11).

    from minigen.data.pen import pen_trajectories
    digits = pen_trajectories(digit=2, n=45)     # [(symbols (M,), points (M + 1, 2)), ...]

The lecture's model writes a digit as a walk of line segments of one fixed length, each
pointing in one of 16 directions. MNIST holds pictures, not pen movements, so we recover
the movement from the picture, one step per function:

1. ``binarize``: ink is every pixel of value >= ``threshold`` (default 128 of 255).
2. ``skeletonize``: Zhang-Suen thinning to a skeleton one pixel wide, then the removal of
   "staircase" corner pixels, so that a path pixel has exactly two 8-neighbours.
3. ``trace_stroke``: walk the skeleton from one end to the other. Only digits written in
   one simple stroke are kept: exactly two end points (pixels with one 8-neighbour), no
   branch point (a pixel with three or more), every pixel reached. Anything else
   (a loop, a T, a digit in two pieces) gives ``None``. The pen starts at the end point
   nearest the top-left corner (smallest x + y), where a '2' begins.
4. ``resample``: points at equal arc length ``step`` along the traced path.
5. ``directions``: the angle of each segment, quantized to ``n_angles`` symbols.

Coordinates: a point is ``(x, y)`` in pixels, x = column (to the right), y = row (down,
as the image is stored). Angles follow the mathematical convention on the page as a
reader sees it: symbol 0 points right, angles grow counter-clockwise, so with 16 angles
symbol 4 is up (y decreasing), 8 left, 12 down.
"""
import numpy as np

from minigen.data.mnist import load_mnist

# the 8 neighbours of (r, c) as (dr, dc), clockwise from north: P2..P9 in Zhang and Suen (1984)
NEIGHBOURS = [(-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1)]


def binarize(image, threshold=128):
    """Ink mask of a grey image (H, W): True where the pixel value is >= ``threshold``."""
    return np.asarray(image) >= threshold


def _neighbours(mask):
    """The 8 neighbours P2..P9 of every pixel of a bool mask (H, W), as a (8, H, W) uint8 stack."""
    padded = np.pad(mask, 1).astype(np.uint8)
    h, w = mask.shape
    return np.stack([padded[1 + dr:1 + dr + h, 1 + dc:1 + dc + w] for dr, dc in NEIGHBOURS])


def skeletonize(image, threshold=128):
    """A skeleton one pixel wide: bool (H, W), from a bool mask or a grey image (H, W).

    Zhang-Suen thinning: two sub-iterations, repeated until nothing changes, each deleting
    at once every ink pixel P1 with neighbours P2..P9 (clockwise from north) such that
    2 <= B <= 6 (B: ink neighbours; keeps end points and the inside of blobs),
    A == 1 (A: 0 -> 1 transitions around P2, ..., P9, P2; deleting P1 keeps its
    neighbours connected), and P2 P4 P6 == P4 P6 P8 == 0 (first sub-iteration: south-east
    boundary) or P2 P4 P8 == P2 P6 P8 == 0 (second: north-west boundary).
    Thinning leaves 4-connected staircases (an L of three pixels); their corner pixel is
    then removed (``_remove_staircases``), so the skeleton is a thin 8-connected curve.
    A known limit of Zhang-Suen: a diagonal stroke exactly 2 pixels thick is eroded to a
    stub (both sub-iterations see its pixels as boundary). MNIST strokes are thicker.
    """
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"skeletonize: expected one image (H, W), got shape {image.shape}")
    skeleton = image.copy() if image.dtype == bool else binarize(image, threshold)
    changed = True
    while changed:
        changed = False
        for first in (True, False):
            p2, p3, p4, p5, p6, p7, p8, p9 = _neighbours(skeleton)
            ring = np.stack([p2, p3, p4, p5, p6, p7, p8, p9, p2])
            b = ring[:8].sum(axis=0)
            a = ((ring[:-1] == 0) & (ring[1:] == 1)).sum(axis=0)
            if first:
                side = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
            else:
                side = (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
            delete = skeleton & (b >= 2) & (b <= 6) & (a == 1) & side
            if delete.any():
                skeleton &= ~delete
                changed = True
    return _remove_staircases(skeleton)


# a corner pixel with ink at its two sides (dr1, dc1) and (dr2, dc2) and none at the three
# pixels facing them: deleting it keeps every neighbour connected through the two sides
STAIRCASES = [((-1, 0), (0, 1), [(1, 0), (0, -1), (1, -1)]),    # north + east, nothing south-west
              ((0, 1), (1, 0), [(-1, 0), (0, -1), (-1, -1)]),    # east + south, nothing north-west
              ((1, 0), (0, -1), [(-1, 0), (0, 1), (-1, 1)]),     # south + west, nothing north-east
              ((0, -1), (-1, 0), [(1, 0), (0, 1), (1, 1)])]      # west + north, nothing south-east


def _remove_staircases(skeleton):
    """Delete, one at a time in raster order, the corner pixels of 4-connected staircases."""
    skeleton = np.pad(skeleton, 1)
    for r, c in zip(*np.nonzero(skeleton)):
        for (r1, c1), (r2, c2), empty in STAIRCASES:
            if (skeleton[r + r1, c + c1] and skeleton[r + r2, c + c2]
                    and not any(skeleton[r + dr, c + dc] for dr, dc in empty)):
                skeleton[r, c] = False
                break
    return skeleton[1:-1, 1:-1]


def trace_stroke(skeleton):
    """The skeleton as one ordered path: float (M, 2) points (x, y), or None if it is not one stroke.

    skeleton: bool (H, W), one pixel wide. Returns None unless the skeleton has exactly
    two end points (one 8-neighbour each), no pixel with three or more neighbours, and
    the walk between the end points visits every pixel. The walk starts at the end point
    with the smaller x + y (nearest the top-left corner; on a tie, the upper one).
    """
    skeleton = np.asarray(skeleton, dtype=bool)
    if skeleton.ndim != 2:
        raise ValueError(f"trace_stroke: expected one skeleton (H, W), got shape {skeleton.shape}")
    degree = _neighbours(skeleton).sum(axis=0) * skeleton
    if (degree >= 3).any():
        return None
    ends = np.argwhere(skeleton & (degree == 1))  # (row, col), in raster order
    if len(ends) != 2:
        return None
    r, c = min(ends.tolist(), key=lambda end: (end[0] + end[1], end[0]))
    path, visited = [(r, c)], {(r, c)}
    while True:
        step = [(r + dr, c + dc) for dr, dc in NEIGHBOURS
                if _inside(skeleton, r + dr, c + dc) and skeleton[r + dr, c + dc] and (r + dr, c + dc) not in visited]
        if not step:
            break
        r, c = step[0]  # the only one: no pixel has more than two neighbours
        path.append((r, c))
        visited.add((r, c))
    if len(path) != skeleton.sum():
        return None
    return np.array(path, dtype=np.float64)[:, ::-1].copy()  # (row, col) -> (x, y)


def _inside(image, r, c):
    return 0 <= r < image.shape[0] and 0 <= c < image.shape[1]


def resample(points, step):
    """Points at equal arc length ``step`` along a polyline: (M, 2) -> (floor(L / step) + 1, 2).

    The polyline is parametrized by arc length s (the summed lengths of its segments,
    L in all); the k-th new point is the polyline at s = k * step, linearly interpolated.
    The rest of the path shorter than one step is dropped.
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) < 2:
        raise ValueError(f"resample: expected a polyline of at least 2 points (M, 2), got shape {points.shape}")
    if step <= 0:
        raise ValueError(f"resample: step must be positive, got {step}")
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))])
    targets = np.arange(int(s[-1] // step) + 1) * step
    return np.stack([np.interp(targets, s, points[:, 0]), np.interp(targets, s, points[:, 1])], axis=1)


def directions(points, n_angles=16):
    """The direction of each segment of a polyline, as symbols: (M, 2) points -> int64 (M - 1,).

    Symbol k stands for the angle 2 pi k / n_angles, counter-clockwise from "right" as the
    image is seen: y grows downwards, so the angle is atan2(-dy, dx). Each segment gets
    the nearest of the n_angles angles (with 16: 0 right, 4 up, 8 left, 12 down).
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"directions: expected points (M, 2), got shape {points.shape}")
    dx, dy = np.diff(points, axis=0).T
    angle = np.arctan2(-dy, dx)  # minus: image y points down, the angle is measured with y up
    return np.round(angle / (2 * np.pi / n_angles)).astype(np.int64) % n_angles


def unit_steps(symbols, n_angles=16, step=1.0, start=(0.0, 0.0)):
    """The inverse of ``directions``: the pen path (M + 1, 2) that draws ``symbols`` (M,) from ``start``."""
    angle = 2 * np.pi * np.asarray(symbols) / n_angles
    moves = step * np.stack([np.cos(angle), -np.sin(angle)], axis=1)  # y down again
    return np.concatenate([np.zeros((1, 2)), np.cumsum(moves, axis=0)]) + np.asarray(start, dtype=np.float64)


def pen_trajectories(digit=2, n=45, step=1.5, n_angles=16, split="train", threshold=128):
    """The first ``n`` images of ``digit`` in the embedded MNIST subset that trace as one stroke.

    Each becomes ``(symbols, points)``: int64 (M,) directions in 0..n_angles - 1 and float
    (M + 1, 2) pen positions (x, y) in pixels, ``step`` apart along the stroke. Images are
    taken in the order of ``load_mnist(split)``, so the result is deterministic; ``n=None``
    keeps all that trace. Raises ValueError when fewer than ``n`` images of the digit trace.
    """
    images, labels = load_mnist(split)
    trajectories = []
    for image in images[labels == digit]:
        path = trace_stroke(skeletonize(image, threshold))
        if path is None:
            continue
        points = resample(path, step)
        if len(points) < 2:  # a stroke shorter than one step
            continue
        trajectories.append((directions(points, n_angles), points))
        if len(trajectories) == n:
            return trajectories
    if n is not None:
        raise ValueError(f"pen_trajectories: only {len(trajectories)} images of digit {digit} in the "
                         f"{split!r} split trace as one stroke, {n} were asked for")
    return trajectories
