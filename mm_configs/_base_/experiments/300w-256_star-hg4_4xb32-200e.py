# Everything but the method for STAR's recipe on 300w: runtime, data (300w-256 with STAR's
# augmentation), STAR's hourglass, STAR's schedule and weight EMA (see each base).
_base_ = ['../default_runtime.py', '../datasets/300w-256.py', '../datasets/star-aug-256.py', '../models/star-hg4.py', '../schedules/star-200e.py']
model = dict(backbone=dict(scheme='300w'), head=dict(scheme='300w'))
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=_base_.pop('star_train_pipeline')))
custom_hooks = _base_.custom_hooks + [_base_.pop('star_ema_hook')]
flip_test = False
