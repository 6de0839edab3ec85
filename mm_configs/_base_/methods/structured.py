# The paper's structured (softmax-margin) loss on raw score maps, no soft-argmax.
# eps = alpha = 1 and a Gaussian soft label of 1.6 cells on a 64 grid (0.05 in [-1, 1]
# units) follow the public port quoted in method.md section 2; the margin is a smooth-l1 of
# the Euclidean distance in grid cells. Decoder: argmax + soft-argmax in a 5 x 5 window.
# A leaf takes the head with `model = dict(head=_base_.pop('method_head'))`: two bases may
# not both define `model` in MMEngine, and popping keeps the key out of the resolved config.
harness_method = 'structured'
method_head = dict(
    type='ScoreMapHead',
    loss=dict(type='StructuredHeatmapLoss', eps=1.0, alpha=1.0, margin='smooth_l1',
              target='gaussian', sigma=1.6),
    decoder=dict(type='GridKeypointCodec', decoder='local_softargmax', decoder_kwargs=dict(radius=2)))
