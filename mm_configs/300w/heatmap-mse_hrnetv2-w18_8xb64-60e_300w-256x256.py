# Classic Gaussian-target heatmap regression (MMPose's HeatmapHead + KeypointMSELoss,
# sigma 2.0 cells), decoded by argmax + quarter offset (MSRAHeatmap, unbiased=False).
_base_ = ['../_base_/experiments/300w-256_hrnetv2-w18_8xb64-60e.py']
harness_method = 'heatmap_mse'
model = dict(head=dict(
    type='MSEHeatmapHead',
    loss=dict(type='KeypointMSELoss', use_target_weight=True),
    decoder=dict(type='MSRAHeatmap', sigma=2.0, unbiased=False)))
