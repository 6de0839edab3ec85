# STAR's stacked hourglass (4 stacks, 4 levels, 256 channels, CoordConv, AAM; 13.48 M
# parameters for WFLW, harness/mm/hourglass.py) with intermediate supervision of every
# stack (harness/mm/aam_head.py). Input convention of STAR and the paper: BGR as loaded,
# scaled to [-1, 1]; 256 x 256 crops, 64 x 64 maps; no flip test. PyTorch's default
# initialisation, trained from scratch. An experiment sets `scheme` on backbone and head;
# a leaf sets the head's `per_stack` (the method's head, mm_configs/_base_/methods/).
model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor', mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5], bgr_to_rgb=False),
    backbone=dict(type='STARHourglass', num_stacks=4, num_levels=4, channels=256, heatmap_act='none',
                  use_aam=True),
    head=dict(type='StackedAAMHead', heatmap_size=(64, 64), num_stacks=4, maps='landmarks', aux_weight=10.0,
              aam_sigma=0.375, decoder=dict(input_size=(256, 256), heatmap_size=(64, 64))),
    test_cfg=dict(flip_test=False))
harness_backbone = 'star-hg4'
