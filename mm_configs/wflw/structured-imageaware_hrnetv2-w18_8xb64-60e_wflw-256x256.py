# The structured loss with the image-aware soft label instead of the isotropic Gaussian:
# the project's own reading of the paper's unpublished label smoothing (an anisotropic
# Gaussian stretched along the local edge of the input crop, blended half and half with
# the isotropic one; harness/losses/targets.py). The estimator hands the crops to the loss.
_base_ = ['./structured_hrnetv2-w18_8xb64-60e_wflw-256x256.py']
model = dict(
    type='ImageAwareTopdownPoseEstimator',
    head=dict(loss=dict(target='image_aware', anisotropy=2.0, blend=0.5)))
