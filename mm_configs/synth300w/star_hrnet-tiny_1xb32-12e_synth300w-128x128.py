# star on synth300w-128_hrnet-tiny_1xb32-12e: the experiment and the method are the two bases (mm_configs/_base_/).
_base_ = ['../_base_/experiments/synth300w-128_hrnet-tiny_1xb32-12e.py', '../_base_/methods/star.py']
model = dict(head=_base_.pop('method_head'))
