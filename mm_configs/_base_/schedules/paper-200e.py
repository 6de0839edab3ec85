# The paper's horizon: its convergence plots run 200 epochs on the STAR/ADNet code base.
# That code base's optimiser settings are not restated in the paper; this is the
# project's reading (Adam 1e-3, warm-up, x0.1 at 150 and 180), unverified against it.
train_cfg = dict(by_epoch=True, max_epochs=200, val_interval=1)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=500, start_factor=0.001, by_epoch=False),
    dict(type='MultiStepLR', begin=0, end=200, milestones=[150, 180], gamma=0.1, by_epoch=True),
]
auto_scale_lr = dict(base_batch_size=512, enable=False)
