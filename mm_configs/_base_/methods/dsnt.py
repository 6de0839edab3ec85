# DSNT (MMPose's DSNTHead): soft-argmax coordinates with smooth-l1 plus a Jensen-Shannon
# regulariser toward a Gaussian of 2.0 cells at the target (weighted per keypoint after the
# divergence, see harness.mm.losses.MaskedJSDiscretLoss); decoded by soft-argmax.
# (How a leaf takes `method_head`: see structured.py.)
harness_method = 'dsnt'
method_head = dict(
    type='DSNTHeatmapHead', beta=1.0, debias=False, lambda_t=-1,
    loss=dict(type='MultipleLossWrapper', losses=[
        dict(type='SmoothL1Loss', use_target_weight=True),
        dict(type='MaskedJSDiscretLoss', use_target_weight=True)]),
    decoder=dict(type='IntegralRegressionLabel', sigma=2.0))
