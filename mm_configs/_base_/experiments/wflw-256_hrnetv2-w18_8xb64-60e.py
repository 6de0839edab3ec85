# Everything but the method: runtime, data (wflw-256), backbone (hrnetv2-w18), schedule (face-60e).
# A method config (mm_configs/<data>/<method>_*.py) adds only head type, loss and decoder.
_base_ = [
    '../default_runtime.py', '../datasets/wflw-256.py', '../models/hrnetv2-w18.py', '../schedules/face-60e.py'
]
model = dict(
    head=dict(
        out_channels={{_base_.num_keypoints}},
        heatmap_size={{_base_.heatmap_size}},
        decoder=dict(input_size={{_base_.input_size}}, heatmap_size={{_base_.heatmap_size}})),
    test_cfg=dict(flip_test={{_base_.flip_test}}, flip_mode='heatmap', shift_heatmap=True, shift_coords=True))
