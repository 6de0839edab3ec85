# The built-in synthetic set (68-point 300W scheme), made by
# `harness data synth --out data/synth-300w`. 128 x 128 crops, 32 x 32 maps (stride 4).
dataset_type = 'Face300WDataset'
data_root = 'data/synth-300w/'
num_keypoints = 68
input_size = (128, 128)
heatmap_size = (32, 32)

# One codec feeds every method: normalised keypoint labels, Gaussian targets (sigma in
# cells) and weights; heads take what their loss needs (harness/mm/heads.py).
codec = dict(
    type='IntegralRegressionLabel', input_size=input_size,
    heatmap_size=heatmap_size, sigma=1.0, normalize=False)

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomBBoxTransform', shift_prob=0, rotate_factor=30, scale_factor=(0.8, 1.2)),
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

_split = dict(type=dataset_type, data_root=data_root, data_mode='topdown', data_prefix=dict(img='images/'))
train_dataloader = dict(
    batch_size=32, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(_split, ann_file='annotations/train.json', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64, num_workers=0, persistent_workers=False, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(_split, ann_file='annotations/val.json', test_mode=True, pipeline=val_pipeline))
test_dataloader = dict(
    batch_size=64, num_workers=0, persistent_workers=False, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(_split, ann_file='annotations/test.json', test_mode=True, pipeline=val_pipeline))

val_evaluator = dict(type='FaceLandmarkMetric', normalizer='inter_ocular', scheme='300w', threshold=0.1)
test_evaluator = val_evaluator
flip_test = False
harness_data = dict(dataset='synth-300w', dataset_kind='synthetic', scheme='300w')
del _split
