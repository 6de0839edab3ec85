# Soft-argmax / integral regression (MMPose's IntegralRegressionHead, beta 1, no debias)
# with an L1 loss on coordinates normalised to the input size; decoded by the same
# soft-argmax it was trained with. (How a leaf takes `method_head`: see structured.py.)
harness_method = 'softargmax'
method_head = dict(
    type='SoftArgmaxHead', beta=1.0, debias=False,
    loss=dict(type='L1Loss', use_target_weight=True),
    decoder=dict(type='IntegralRegressionLabel', sigma=2.0))
