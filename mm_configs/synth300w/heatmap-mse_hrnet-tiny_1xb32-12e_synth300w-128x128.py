# Classic Gaussian-target heatmap regression (MMPose's HeatmapHead + KeypointMSELoss,
# sigma 1.0 cells), decoded by argmax + quarter offset (MSRAHeatmap, unbiased=False).
_base_ = ['../_base_/experiments/synth300w-128_hrnet-tiny_1xb32-12e.py']
harness_method = 'heatmap_mse'
model = dict(head=dict(
    type='MSEHeatmapHead',
    loss=dict(type='KeypointMSELoss', use_target_weight=True),
    decoder=dict(type='MSRAHeatmap', sigma=1.0, unbiased=False)))
