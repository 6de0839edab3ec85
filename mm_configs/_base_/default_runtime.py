# Runtime shared by every harness config. Differences from MMPose's default_runtime:
# MMEngine's own Visualizer (MMPose's imports torchvision, which breaks the CPU torch),
# the project's plug-ins loaded loudly, a checkpoint every epoch (resume after a kill) saved so
# that a kill during the save cannot lose the previous one (AtomicCheckpointHook),
# best checkpoint by the project's NME, and the NaN guard.
default_scope = 'mmpose'
custom_imports = dict(imports=['harness.mm'], allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='AtomicCheckpointHook', interval=1, max_keep_ckpts=1,
        save_best='face/nme', rule='less'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
# ResumeValidationHook: a run killed during validation validates that epoch on resume.
custom_hooks = [dict(type='DivergenceGuardHook'), dict(type='ResumeValidationHook')]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
visualizer = dict(
    type='Visualizer', vis_backends=[dict(type='LocalVisBackend')], name='visualizer')
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True, num_digits=6)
log_level = 'INFO'
load_from = None
resume = False
# `harness train --seed` sets the seed; deterministic kernels keep same-seed CPU runs equal.
randomness = dict(seed=0, deterministic=True)
backend_args = dict(backend='local')
