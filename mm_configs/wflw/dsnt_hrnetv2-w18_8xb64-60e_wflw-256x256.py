# dsnt on wflw-256_hrnetv2-w18_8xb64-60e: the experiment and the method are the two bases (mm_configs/_base_/).
_base_ = ['../_base_/experiments/wflw-256_hrnetv2-w18_8xb64-60e.py', '../_base_/methods/dsnt.py']
model = dict(head=_base_.pop('method_head'))
