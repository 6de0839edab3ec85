# A CPU-sized HRNet (0.96 M parameters): MMPose's HRNet with one block per branch and
# widths 16/32/64/128, all branches upsampled and concatenated (240 channels at stride 4),
# the same topology as HRNetV2-W18 at about a tenth of its cost. Trained from scratch.
model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(
        type='HRNet', in_channels=3,
        extra=dict(
            stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(1, ), num_channels=(32, )),
            stage2=dict(num_modules=1, num_branches=2, block='BASIC', num_blocks=(1, 1), num_channels=(16, 32)),
            stage3=dict(num_modules=1, num_branches=3, block='BASIC', num_blocks=(1, 1, 1), num_channels=(16, 32, 64)),
            stage4=dict(num_modules=1, num_branches=4, block='BASIC', num_blocks=(1, 1, 1, 1),
                        num_channels=(16, 32, 64, 128), multiscale_output=True),
            upsample=dict(mode='bilinear', align_corners=False))),
    neck=dict(type='FeatureMapProcessor', concat=True),
    head=dict(in_channels=240),
)
harness_backbone = 'hrnet-tiny'
