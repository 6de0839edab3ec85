# Soft-argmax / integral regression (MMPose's IntegralRegressionHead, beta 1, no debias)
# with an L1 loss on coordinates normalised to the input size; decoded by the same
# soft-argmax it was trained with.
_base_ = ['../_base_/experiments/synth300w-128_hrnet-tiny_1xb32-12e.py']
harness_method = 'softargmax'
model = dict(head=dict(
    type='SoftArgmaxHead', beta=1.0, debias=False,
    loss=dict(type='L1Loss', use_target_weight=True),
    decoder=dict(type='IntegralRegressionLabel', sigma=1.0)))
