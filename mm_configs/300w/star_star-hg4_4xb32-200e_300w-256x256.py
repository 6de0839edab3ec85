# STAR's full baseline on 300w: instance norm + ReLU landmark maps times the AAM mask, each
# divided by its sum for the STAR loss and for the mean it is decoded with, at every stack
# with STAR's weights, plus AWing x 10 on the point and edge maps; STAR's recipe.
_base_ = ['../_base_/experiments/300w-256_star-hg4_4xb32-200e.py', '../_base_/methods/star.py']
model = dict(backbone=dict(heatmap_act='in+relu'), head=dict(maps='fused', per_stack=_base_.pop('method_head')))
model['head']['per_stack']['loss']['normalize'] = 'none'
model['head']['per_stack']['decoder']['decoder_kwargs'] = dict(normalize='none')
