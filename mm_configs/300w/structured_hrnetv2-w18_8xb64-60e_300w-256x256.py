# structured on 300w-256_hrnetv2-w18_8xb64-60e: the experiment and the method are the two bases (mm_configs/_base_/).
_base_ = ['../_base_/experiments/300w-256_hrnetv2-w18_8xb64-60e.py', '../_base_/methods/structured.py']
model = dict(head=_base_.pop('method_head'))
