# CrossKD + PKD, as the authors' configs/crosskd+pkd/
# twin of crosskd_fcos_r101_fcos_r50_2x_coco.py: the same
# CrossKD terms plus MMRazor's PKDLoss on the 5 FPN outputs, weight 2 (the authors' for this
# family; their pkd_loss is MMRazor's formula): 41.3 box AP (the authors').
#   bash tools/dist_train.sh configs/crosskd/crosskd+pkd_fcos_r101_fcos_r50_2x_coco.py 8
_base_ = ['./crosskd_fcos_r101_fcos_r50_2x_coco.py', '../_base_/distill/plus_pkd.py']
model = dict(
    distiller=dict(
        _base_.pop('plus_pkd'),
        distill_losses={f'loss_pkd_fpn{i}': dict(type='PKDLoss', loss_weight=2)
                        for i in range(5)}))
find_unused_parameters = True
