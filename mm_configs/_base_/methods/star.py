# STAR loss (Zhou et al., CVPR 2023) on the main heatmap. On a single-head backbone the
# AWing point/edge terms of STAR's hourglass recipe are left out so that the backbone is
# shared (method.md section 3); the *_star-hg4_* leaves add them. Decoded by the mean of
# STAR's own normalised map. (How a leaf takes `method_head`: see structured.py.)
harness_method = 'star'
method_head = dict(
    type='ScoreMapHead',
    loss=dict(type='STARHeatmapLoss', w=1.0, threshold=0.01, normalize='relu_instance_norm'),
    decoder=dict(type='GridKeypointCodec', decoder='star_mean'))
