# STAR's training augmentation on 256 x 256 crops (lib/dataset/augmentation.py of
# ZhenglinZhou/STAR): horizontal flip 0.5 with landmark remapping (MMPose's RandomFlip and
# the dataset's flip indices), shift sigma 0.05 of the crop, rotation sigma 18 deg, scale
# sigma 0.1, then texture (occlusion 0.4, blur 0.3, gamma 0.2, noise 0.2, grey 0.2:
# harness/mm/transforms.py). Project's reading: MMPose's RandomBBoxTransform draws
# truncated normals (within +-1 sigma) where STAR draws plain normals, and the crop is
# MMPose's bbox with padding 1.25 where STAR uses its annotation's centre and scale.
# An experiment takes it with `dataset=dict(pipeline=_base_.pop('star_train_pipeline'))`.
star_train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal', prob=0.5),
    dict(type='RandomBBoxTransform', shift_factor=0.05, shift_prob=1.0, rotate_factor=18, rotate_prob=1.0,
         scale_factor=(0.9, 1.1), scale_prob=1.0),
    dict(type='TopdownAffine', input_size=(256, 256)),
    dict(type='STARTextureAugment', occlusion=0.4, blur=0.3, gamma=0.2, noise=0.2, grey=0.2),
    dict(type='GenerateTarget', encoder=dict(
        type='IntegralRegressionLabel', input_size=(256, 256), heatmap_size=(64, 64), sigma=2.0, normalize=False)),
    dict(type='PackPoseInputs'),
]
