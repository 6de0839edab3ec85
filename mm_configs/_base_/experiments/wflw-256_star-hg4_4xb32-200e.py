# Everything but the method for STAR's recipe on wflw: runtime, data (wflw-256 with STAR's
# augmentation), STAR's hourglass, STAR's schedule and weight EMA (see each base).
_base_ = ['../default_runtime.py', '../datasets/wflw-256.py', '../datasets/star-aug-256.py', '../models/star-hg4.py', '../schedules/star-200e.py']
model = dict(backbone=dict(scheme='wflw'), head=dict(scheme='wflw'))
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=_base_.pop('star_train_pipeline')))
custom_hooks = _base_.custom_hooks + [_base_.pop('star_ema_hook')]
flip_test = False
