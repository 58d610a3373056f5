"""Pen trajectories from MNIST: thinning, tracing one stroke, arc-length resampling, 16 directions."""
import numpy as np
import pytest

from minigen.data.pen import directions, pen_trajectories, resample, skeletonize, trace_stroke, unit_steps


def draw(pixels, shape=(28, 28)):
    """A bool image with ink at the given (row, col) pixels."""
    image = np.zeros(shape, dtype=bool)
    rows, cols = zip(*pixels)
    image[list(rows), list(cols)] = True
    return image


def xy(pixels):
    """(row, col) pixels as the (x, y) points that trace_stroke returns."""
    return np.array([(c, r) for r, c in pixels], dtype=np.float64)


# a one-pixel '2': right along row 5, down around the right side, diagonally down-left, right along row 17
TWO_STROKE = ([(5, c) for c in range(6, 16)] + [(6, 16), (7, 17), (8, 17), (9, 17)]
              + [(9 + k, 17 - k) for k in range(1, 7)] + [(16, 11)] + [(17, c) for c in range(12, 20)])


# ------------------------------------------------------------------ thinning
def test_thinning_a_thick_horizontal_bar_leaves_one_connected_row_of_almost_its_length():
    image = np.zeros((28, 28), dtype=np.uint8)
    image[10:15, 4:24] = 255  # 5 pixels thick, columns 4..23
    skeleton = skeletonize(image)
    rows, cols = np.nonzero(skeleton)
    assert np.all(np.bincount(cols) <= 1)  # one pixel wide
    assert cols.min() <= 4 + 3 and cols.max() >= 23 - 3  # loses about half the thickness at each end
    assert 10 <= rows.min() and rows.max() <= 14  # stays inside the bar
    assert trace_stroke(skeleton) is not None  # connected: one stroke through every pixel


def test_thinning_a_thick_diagonal_line_leaves_an_8_connected_diagonal():
    image = np.zeros((28, 28), dtype=bool)
    for k in range(4, 22):
        image[k:k + 4, k - 2:k + 2] = True
    skeleton = skeletonize(image)
    rows, cols = np.nonzero(skeleton)
    assert np.all(np.bincount(rows) <= 1) and np.all(np.bincount(cols) <= 1)
    assert rows.max() - rows.min() >= 12
    path = trace_stroke(skeleton)
    assert np.all(np.abs(np.diff(path, axis=0)).max(axis=1) == 1)  # neighbouring pixels, in order


def test_thinning_keeps_a_one_pixel_stroke_except_for_staircase_corners():
    corner = [(5, 5), (6, 5), (7, 5), (7, 6), (7, 7)]  # an L: (7, 5) is redundant in 8-connectivity
    skeleton = skeletonize(draw(corner))
    assert skeleton.sum() == 4 and not skeleton[7, 5]
    assert np.array_equal(trace_stroke(skeleton), xy([(5, 5), (6, 5), (7, 6), (7, 7)]))


def test_skeletonize_thresholds_grey_images_at_128():
    image = np.zeros((28, 28), dtype=np.uint8)
    image[10, 5:20] = 127
    assert not skeletonize(image).any()
    image[10, 5:20] = 128
    assert skeletonize(image).sum() == 15


def test_skeletonize_rejects_a_batch():
    with pytest.raises(ValueError, match=r"expected one image \(H, W\), got shape \(2, 28, 28\)"):
        skeletonize(np.zeros((2, 28, 28)))


# ------------------------------------------------------------------ tracing
def test_tracing_a_two_shaped_stroke_gives_its_pixels_in_order_from_the_top_left_end():
    assert np.array_equal(trace_stroke(draw(TWO_STROKE)), xy(TWO_STROKE))


def test_tracing_starts_at_the_end_nearest_the_top_left_whichever_end_is_listed_first():
    backwards = TWO_STROKE[::-1]  # the same pixels: the image does not know the drawing order
    assert np.array_equal(trace_stroke(draw(backwards)), xy(TWO_STROKE))
    rising = [(20 - k, 5 + k) for k in range(10)]  # bottom-left to top-right: x + y ties, the upper end wins
    assert np.array_equal(trace_stroke(draw(rising)), xy(rising[::-1]))


@pytest.mark.parametrize("name, pixels", [
    ("T", [(5, c) for c in range(5, 16)] + [(r, 10) for r in range(6, 16)]),
    ("X", [(5 + k, 5 + k) for k in range(11)] + [(15 - k, 5 + k) for k in range(11) if k != 5]),
    ("ring", [(5, c) for c in range(5, 10)] + [(r, 10) for r in range(5, 10)]
             + [(10, c) for c in range(6, 11)] + [(r, 5) for r in range(6, 11)]),
    ("two strokes", [(5, c) for c in range(5, 15)] + [(15, c) for c in range(5, 15)]),
])
def test_tracing_rejects_anything_but_one_simple_stroke(name, pixels):
    assert trace_stroke(skeletonize(draw(pixels))) is None, name


# ------------------------------------------------------------------ resampling
def test_resampling_an_l_puts_points_one_step_apart_through_the_corner():
    points = resample([(0, 0), (10, 0), (10, 10)], step=2.5)
    expected = [(x, 0) for x in np.arange(0, 10.1, 2.5)] + [(10, y) for y in np.arange(2.5, 10.1, 2.5)]
    np.testing.assert_allclose(points, expected)


def test_resampling_ignores_how_unevenly_the_input_points_are_spaced():
    uneven = [(0, 0), (0.3, 0.4), (0.6, 0.8), (3, 4), (3.06, 4.08), (6, 8)]  # a straight line of length 10
    points = resample(uneven, step=1.0)
    np.testing.assert_allclose(np.linalg.norm(np.diff(points, axis=0), axis=1), 1.0)
    np.testing.assert_allclose(points[-1], (6, 8))


def test_resampling_drops_the_rest_shorter_than_one_step():
    points = resample([(0, 0), (9.5, 0)], step=2.0)
    np.testing.assert_allclose(points[:, 0], [0, 2, 4, 6, 8])


def test_resample_rejects_a_non_positive_step():
    with pytest.raises(ValueError, match="step must be positive, got 0"):
        resample([(0, 0), (1, 0)], step=0)


# ------------------------------------------------------------------ directions
@pytest.mark.parametrize("move, symbol", [
    ((1, 0), 0),  # right
    ((1, -1), 2),  # up-right: image y points down, so "up" is y decreasing
    ((0, -1), 4),  # up
    ((-1, 0), 8),  # left
    ((0, 1), 12),  # down
    ((1, 1), 14),  # down-right
    ((np.cos(0.3), -np.sin(0.3)), 1),  # 0.3 rad is nearest to 22.5 degrees
    ((np.cos(-0.1), -np.sin(-0.1)), 0),  # just below "right" wraps to 0, not 16
])
def test_directions_are_counter_clockwise_from_right_as_the_image_is_seen(move, symbol):
    assert directions([(5, 5), (5 + move[0], 5 + move[1])]).tolist() == [symbol]


def test_directions_with_8_angles():
    points = [(0, 0), (1, 0), (1, -1), (0, -1)]  # right, up, left
    assert directions(points, n_angles=8).tolist() == [0, 2, 4]


def test_unit_steps_draw_the_directions_back():
    symbols = np.arange(16)
    path = unit_steps(symbols, start=(3, 4))
    np.testing.assert_allclose(path[0], (3, 4))
    np.testing.assert_allclose(np.linalg.norm(np.diff(path, axis=0), axis=1), 1.0)
    assert directions(path).tolist() == symbols.tolist()


# ------------------------------------------------------------------ real '2's
@pytest.fixture(scope="module")
def twos():
    return pen_trajectories(digit=2, n=None)


def test_enough_of_the_embedded_twos_trace_as_one_stroke(twos):
    assert len(twos) >= 45  # 89 of the 400 training '2's with the default threshold


def test_real_trajectories_are_symbols_in_range_with_points_one_step_apart(twos):
    for symbols, points in twos:
        assert symbols.dtype == np.int64 and 0 <= symbols.min() and symbols.max() < 16
        assert points.shape == (len(symbols) + 1, 2)
        assert np.all((0 <= points) & (points <= 27))
        assert np.array_equal(directions(points), symbols)


def test_real_trajectories_have_reasonable_lengths(twos):
    lengths = np.array([len(symbols) for symbols, _ in twos])
    assert lengths.min() >= 8 and lengths.max() <= 50  # 1.5-pixel steps through a 28-pixel digit
    assert 16 <= np.median(lengths) <= 32  # about 23 (as many segments as the HMM has states, or more)


def test_real_twos_start_at_the_top_left(twos):
    starts = np.array([points[0] for _, points in twos])
    ends = np.array([points[-1] for _, points in twos])
    assert np.all(starts.sum(axis=1) <= ends.sum(axis=1))
    assert np.mean(starts[:, 0] < ends[:, 0]) > 0.8  # most '2's end to the right of where they start


def test_pen_trajectories_are_deterministic_and_take_the_first_n(twos):
    first = pen_trajectories(digit=2, n=45)
    assert len(first) == 45
    for (symbols, points), (expected_symbols, expected_points) in zip(first, twos):
        assert np.array_equal(symbols, expected_symbols) and np.array_equal(points, expected_points)


def test_pen_trajectories_say_how_many_traced_when_too_many_are_asked_for():
    with pytest.raises(ValueError, match=r"only \d+ images of digit 2 in the 'train' split trace as one stroke, 400"):
        pen_trajectories(digit=2, n=400)
