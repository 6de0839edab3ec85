# The paper's structured (softmax-margin) loss on raw score maps, no soft-argmax.
# eps = alpha = 1 and a Gaussian soft label of 1.6 cells (0.05 in [-1, 1] units) follow
# the public port quoted in method.md section 2; the margin is a smooth-l1 of the
# Euclidean distance in grid cells. Decoder: argmax + soft-argmax in a 5 x 5 window.
_base_ = ['../_base_/experiments/300w-256_hrnetv2-w18_8xb64-60e.py']
harness_method = 'structured'
model = dict(head=dict(
    type='ScoreMapHead',
    loss=dict(type='StructuredHeatmapLoss', eps=1.0, alpha=1.0, margin='smooth_l1',
              target='gaussian', sigma=1.6),
    decoder=dict(type='GridKeypointCodec', decoder='local_softargmax', decoder_kwargs=dict(radius=2))))
