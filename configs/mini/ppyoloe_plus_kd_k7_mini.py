# configs/mini/ppyoloe_plus_kd_mini.py with the kd term's weight rescaled for 7 classes. The kd
# term averages its KL over the classes: with the mini dataset's 7 classes instead of COCO's
# 80 it is about 80/7 times larger against the other terms than in the seed's setting (in the
# mini run it is most of the loss: 87% of it after the first epoch, 65% at the end). Here its
# weight is 4 x 20000 x 7 / 80 = 7000.
_base_ = './ppyoloe_plus_kd_mini.py'
model = dict(distiller=dict(distill_losses=dict(loss_logits_kd=dict(loss_weight=7000.0))))
