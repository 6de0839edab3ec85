# The paper's system on 300w: the structured loss on the final raw scores of STAR's hourglass
# (heatmap_act='none', no AAM fusion before the loss) at every stack with STAR's stack
# weights, plus AWing x 10 on the point and edge maps, STAR's recipe. Project's reading,
# unverified against the authors' code: 200 epochs, eps = alpha = 1, smooth-l1 margin in
# grid cells, Gaussian soft label 1.6 cells (method.md section 2), AAM target sigma 0.375 cells.
_base_ = ['../_base_/experiments/300w-256_star-hg4_4xb32-200e.py', '../_base_/methods/structured.py']
model = dict(head=dict(per_stack=_base_.pop('method_head')))
