# MMPose's 60-epoch face recipe (td-hm_hrnetv2-w18_8xb64-60e_{wflw,300w,cofw}-256x256):
# Adam 2e-3 for a total batch of 512 (8 GPUs x 64), 500-iteration warm-up, x0.1 at
# epochs 40 and 55. Enable auto_scale_lr when the total batch differs.
train_cfg = dict(by_epoch=True, max_epochs=60, val_interval=1)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(optimizer=dict(type='Adam', lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=500, start_factor=0.001, by_epoch=False),
    dict(type='MultiStepLR', begin=0, end=60, milestones=[40, 55], gamma=0.1, by_epoch=True),
]
auto_scale_lr = dict(base_batch_size=512, enable=False)
