"""Decoders on maps with a known (sub-pixel) peak."""
import math

import pytest
import torch

from harness.decoding import DECODERS, decode_heatmaps
from harness.losses import soft_argmax


def _gaussian_map(x0, y0, h=16, w=20, sigma=1.5):
    c = torch.arange(w, dtype=torch.float64)
    r = torch.arange(h, dtype=torch.float64).view(-1, 1)
    return torch.exp(-((c - x0) ** 2 + (r - y0) ** 2) / (2 * sigma**2)).view(1, 1, h, w)


def test_table_lists_every_method():
    assert set(DECODERS) == {"none", "quarter", "dark", "local_softargmax", "softargmax", "star_mean"}
    with pytest.raises(ValueError):
        decode_heatmaps(torch.zeros(1, 1, 3, 3), "taylor")


def test_argmax_and_maxvals():
    scores = torch.zeros(1, 2, 3, 4)
    scores[0, 0, 2, 1] = 5.0
    scores[0, 1, 0, 3] = 7.0
    coords, maxvals = decode_heatmaps(scores)
    assert coords.tolist() == [[[1.0, 2.0], [3.0, 0.0]]]
    assert maxvals.tolist() == [[5.0, 7.0]]


def test_quarter_shifts_toward_larger_neighbour_and_not_at_border():
    scores = torch.tensor([[[[0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 5.0, 2.0], [0.0, 0.0, 3.0, 0.0]]]])
    coords, _ = decode_heatmaps(scores, "quarter")
    assert coords.tolist() == [[[2.25, 1.25]]]
    edge = torch.tensor([[[[9.0, 1.0, 0.0]]]])
    assert decode_heatmaps(edge, "quarter")[0].tolist() == [[[0.0, 0.0]]]


@pytest.mark.parametrize("x0, y0", [(7.3, 9.6), (10.8, 4.2)])
def test_dark_recovers_sub_pixel_gaussian_peak(x0, y0):
    coords, _ = decode_heatmaps(_gaussian_map(x0, y0), "dark")
    torch.testing.assert_close(coords, torch.tensor([[[x0, y0]]], dtype=coords.dtype), atol=0.02, rtol=0)


def test_dark_on_logits():
    scores = torch.log(_gaussian_map(5.7, 8.35)) * 3.0  # a quadratic bowl of raw scores
    coords, _ = decode_heatmaps(scores, "dark", logits=True)
    torch.testing.assert_close(coords, torch.tensor([[[5.7, 8.35]]], dtype=coords.dtype), atol=0.02, rtol=0)


def test_dark_skips_border_peaks():
    scores = torch.zeros(1, 1, 5, 5)
    scores[0, 0, 0, 2] = 1.0
    assert decode_heatmaps(scores, "dark")[0].tolist() == [[[2.0, 0.0]]]


def test_local_softargmax_hand_computed():
    scores = torch.full((1, 1, 3, 3), -1e4)
    scores[0, 0, 1] = torch.log(torch.tensor([1.0, 4.0, 3.0]))
    coords, maxvals = decode_heatmaps(scores, "local_softargmax", radius=1, beta=1.0)
    # Window weights 1 : 4 : 3 on columns 0, 1, 2 of row 1: x = (0 + 4 + 6) / 8.
    torch.testing.assert_close(coords, torch.tensor([[[1.25, 1.0]]]))
    assert maxvals.item() == pytest.approx(math.log(4.0))


def test_local_softargmax_window_clipped_at_the_corner():
    scores = torch.full((1, 1, 4, 4), -1e4)
    scores[0, 0, 0, 0], scores[0, 0, 0, 1] = 0.0, 0.0
    coords, _ = decode_heatmaps(scores, "local_softargmax", radius=2)
    torch.testing.assert_close(coords, torch.tensor([[[0.5, 0.0]]]))


def test_global_softargmax_matches_core():
    scores = torch.randn(2, 3, 6, 5, generator=torch.Generator().manual_seed(8))
    coords, _ = decode_heatmaps(scores, "softargmax", beta=2.0)
    torch.testing.assert_close(coords, soft_argmax(scores, 2.0))


def test_half_precision_input():
    coords, _ = decode_heatmaps(_gaussian_map(7.3, 9.6).half(), "dark")
    assert torch.isfinite(coords).all() and abs(coords[0, 0, 0].item() - 7.3) < 0.05


def test_star_mean_recovers_the_mean_of_a_symmetric_bump():
    # A symmetric bump centred between cells: its relu-normalised mean sits at the centre,
    # which a plain argmax cannot report.
    h, w = 9, 11
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij")
    cx, cy = 4.5, 3.5
    scores = torch.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / 2.0)[None, None]
    coords, _ = decode_heatmaps(scores, "star_mean")
    assert torch.allclose(coords[0, 0], torch.tensor([cx, cy], dtype=torch.float64), atol=1e-9)
