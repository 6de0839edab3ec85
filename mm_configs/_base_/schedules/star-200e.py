# STAR's optimiser and schedule (conf/alignment.py of ZhenglinZhou/STAR): Adam 1e-3,
# betas (0.9, 0.999), weight decay 1e-5, batch 32, x0.1 at epochs 200, 350, 450.
# Project's reading (unverified): 200 epochs, the horizon of the paper's convergence plots,
# where STAR trains 500 -- so the first milestone is never reached; set
# train_cfg.max_epochs=500 for STAR's own length. Weight EMA as STAR's: every iteration,
# decay 0.5 ** (32 / 10000), buffers averaged too (an experiment appends `star_ema_hook`).
train_cfg = dict(by_epoch=True, max_epochs=200, val_interval=1)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3, betas=(0.9, 0.999), weight_decay=1e-5))
param_scheduler = [dict(type='MultiStepLR', begin=0, end=500, milestones=[200, 350, 450], gamma=0.1, by_epoch=True)]
auto_scale_lr = dict(base_batch_size=32, enable=False)
star_ema_hook = dict(type='EMAHook', ema_type='ExponentialMovingAverage', momentum=1 - 0.5 ** (32 / 10000),
                     update_buffers=True)
