# WFLW (98 points), prepared by `harness data prepare wflw --src ... --out data/wflw`.
# Inter-ocular NME (outer eye corners 60, 72), FR/AUC at 0.10; the six test subsets are
# reported from the annotations' attributes.
_base_ = ['./face-256.py']
dataset_type = 'WFLWDataset'
data_root = 'data/wflw/'
num_keypoints = 98
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(type='FaceLandmarkMetric', normalizer='inter_ocular', scheme='wflw', threshold=0.1)
test_evaluator = val_evaluator
harness_data = dict(dataset='wflw', dataset_kind='real', scheme='wflw')
