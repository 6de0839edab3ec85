# STAR loss (Zhou et al., CVPR 2023) on the main heatmap only: the AWing point/edge
# terms of STAR's 4-stack hourglass recipe are left out so that the backbone is shared
# (method.md section 3). Decoded by the mean of STAR's own normalised map.
_base_ = ['../_base_/experiments/synth300w-128_hrnet-tiny_1xb32-12e.py']
harness_method = 'star'
model = dict(head=dict(
    type='ScoreMapHead',
    loss=dict(type='STARHeatmapLoss', w=1.0, threshold=0.01, normalize='relu_instance_norm'),
    decoder=dict(type='GridKeypointCodec', decoder='star_mean')))
