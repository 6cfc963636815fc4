# The mini teachers' schedule: schedule_mini.py twice as long (8 epochs, LR step at 6), so that
# a teacher trained from scratch ends clearly better than its 4-epoch students.
_base_ = './schedule_mini.py'
max_epochs = 8
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[6], gamma=0.1)
]
