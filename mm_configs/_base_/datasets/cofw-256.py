# COFW (29 points), prepared by `harness data prepare cofw --src ... --out data/cofw`.
# Inter-ocular NME (points 8, 9) as in MMPose's COFW config; STAR and likely the paper
# report inter-pupil (16, 17): override `val_evaluator.normalizer=inter_pupil`.
_base_ = ['./face-256.py']
dataset_type = 'COFWDataset'
data_root = 'data/cofw/'
num_keypoints = 29
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(type='FaceLandmarkMetric', normalizer='inter_ocular', scheme='cofw', threshold=0.1)
test_evaluator = val_evaluator
harness_data = dict(dataset='cofw', dataset_kind='real', scheme='cofw')
