# heatmap-mse on synth300w-128_hrnet-tiny_1xb32-12e: the experiment and the method are the two bases (mm_configs/_base_/).
_base_ = ['../_base_/experiments/synth300w-128_hrnet-tiny_1xb32-12e.py', '../_base_/methods/heatmap-mse.py']
model = dict(head=_base_.pop('method_head'))
model['head']['decoder']['sigma'] = 1.0  # cells of the 32 x 32 grid
