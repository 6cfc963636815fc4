# CrossKD + PKD, as the authors' configs/crosskd+pkd/
# twin of crosskd_atss_r101_atss_r50_1x_coco.py: the same
# CrossKD terms plus MMRazor's PKDLoss on the 5 FPN outputs, weight 1 (the authors' for this
# family; their pkd_loss is MMRazor's formula): 41.8 box AP (the authors').
#   bash tools/dist_train.sh configs/crosskd/crosskd+pkd_atss_r101_atss_r50_1x_coco.py 8
_base_ = ['./crosskd_atss_r101_atss_r50_1x_coco.py', '../_base_/distill/plus_pkd.py']
model = dict(
    distiller=dict(
        _base_.pop('plus_pkd'),
        distill_losses={f'loss_pkd_fpn{i}': dict(type='PKDLoss', loss_weight=1)
                        for i in range(5)}))
find_unused_parameters = True
