# CPU schedule for the built-in set: Adam 2e-3 (the calibration in method.md section 6),
# 100-iteration warm-up, then constant. Constant LR keeps "epochs to a target NME"
# comparable when a sweep shortens max_epochs.
train_cfg = dict(by_epoch=True, max_epochs=12, val_interval=1)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(optimizer=dict(type='Adam', lr=2e-3))
param_scheduler = [dict(type='LinearLR', begin=0, end=100, start_factor=0.01, by_epoch=False)]
auto_scale_lr = dict(base_batch_size=32, enable=False)
