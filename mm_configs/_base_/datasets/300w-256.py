# 300W (68 points), prepared by `harness data prepare 300w --src ... --out data/300w`.
# Validated and tested on the full set (689 = common 554 + challenge 135); inter-ocular
# NME (outer eye corners 36, 45), FR/AUC at 0.10 (STAR reports 0.05: override threshold).
_base_ = ['./face-256.py']
dataset_type = 'Face300WDataset'
data_root = 'data/300w/'
num_keypoints = 68
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root, ann_file='annotations/test_full.json'))
test_dataloader = val_dataloader
val_evaluator = dict(type='FaceLandmarkMetric', normalizer='inter_ocular', scheme='300w', threshold=0.1)
test_evaluator = val_evaluator
harness_data = dict(dataset='300w', dataset_kind='real', scheme='300w')
