# MMPose's face recipe (configs/face_2d_keypoint/topdown_heatmap/*/td-hm_hrnetv2-w18_*):
# 256 x 256 crops, 64 x 64 maps, flip + rotation 60 + scale 0.75-1.25, flip test.
# A benchmark file below sets the dataset type, root, splits, scheme and normaliser.
input_size = (256, 256)
heatmap_size = (64, 64)
codec = dict(
    type='IntegralRegressionLabel', input_size=input_size,
    heatmap_size=heatmap_size, sigma=2.0, normalize=False)

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomBBoxTransform', shift_prob=0, rotate_factor=60, scale_factor=(0.75, 1.25)),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='PackPoseInputs'),
]
train_dataloader = dict(
    batch_size=64, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(data_mode='topdown', data_prefix=dict(img='images/'),
                 ann_file='annotations/train.json', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32, num_workers=2, persistent_workers=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(data_mode='topdown', data_prefix=dict(img='images/'),
                 ann_file='annotations/test.json', test_mode=True, pipeline=val_pipeline))
test_dataloader = val_dataloader
flip_test = True
