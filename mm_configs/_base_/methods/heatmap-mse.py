# Classic Gaussian-target heatmap regression (MMPose's HeatmapHead + KeypointMSELoss,
# sigma 2.0 cells), decoded by argmax + quarter offset (MSRAHeatmap, unbiased=False).
# (How a leaf takes `method_head`: see structured.py.)
harness_method = 'heatmap_mse'
method_head = dict(
    type='MSEHeatmapHead',
    loss=dict(type='KeypointMSELoss', use_target_weight=True),
    decoder=dict(type='MSRAHeatmap', sigma=2.0, unbiased=False))
