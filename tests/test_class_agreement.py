"""Teacher and student must predict the same classes where a method compares class
predictions: refused at build with both numbers and the fix; feature-level methods are free;
a teacher config trained on other class names or order is warned about when the config loads.
"""
import pytest

import detkd  # noqa: F401
from detkd.testing import build_pair
from detkd.utils import load_config
from detkd.utils.config import class_difference, dataset_classes


def _build(path, **options):
    return build_pair(path, options, init_weights=False)[1]


@pytest.mark.parametrize('path, users', [
    ('configs/yolov3_kd/yolov3_r34_mv1_distill_mini.py', 'loss_yolov3_kd0'),
    ('configs/ld/ld_gfl_r34vd_r18vd_mini.py', 'loss_kd'),
    ('configs/ppyoloe_kd/ppyoloe_plus_kd_mini.py',
     "the teacher's head step handed to the student"),
])
def test_logit_methods_refuse_a_teacher_of_other_classes(path, users):
    with pytest.raises(ValueError) as err:
        _build(path, **{'model.teacher.bbox_head.num_classes': 80})
    msg = str(err.value)
    assert users in msg
    assert 'the teacher predicts 80 classes and the student 7' in msg
    assert "teacher trained on the student's classes" in msg and 'feature-level' in msg


def test_cwd_on_head_logits_is_refused_by_the_dry_run_with_the_class_counts():
    """MMRazor's ChannelWiseDivergence does not say it compares classes: the dry run sees
    class maps of 7 and 80 channels, the heads' num_classes, and says so."""
    with pytest.raises(
            ValueError,
            match=r'loss_cwd_cls0: preds_S .* are class predictions of 7 '
            r'and 80 classes'):
        _build('configs/cwd/cwd_gfl_r34vd_r18_mini.py',
               **{'model.teacher.bbox_head.num_classes': 80})


def test_feature_methods_take_a_teacher_of_other_classes():
    algo = _build('configs/fgd/fgd_retina_r34_r18_mini.py', **{
        'model.teacher.bbox_head.num_classes': 80,
        'model.inherit_teacher': []
    })
    assert algo.teacher.bbox_head.num_classes == 80 and algo.student.bbox_head.num_classes == 7


def test_class_difference_in_words():
    assert class_difference(('a', 'b'), ('a', 'b')) is None
    assert class_difference(('a', 'b', 'c'), ('a', 'c', 'b')) == (
        "the same classes in another order: #1 is 'b' for the student, 'c' for the teacher; "
        "#2 is 'c' for the student, 'b' for the teacher")
    assert class_difference(('a', 'b'), ('a', 'x', 'y')) == (
        "2 classes for the student, 3 for the teacher; only the student has ['b'], only the "
        "teacher ['x', 'y']")


def test_a_teacher_config_of_another_class_order_is_warned_about(tmp_path):
    classes = dataset_classes(load_config('configs/retinanet/retinanet_r18_mini.py'))
    assert classes[:2] == ('person', 'cat') and len(classes) == 7
    teacher = tmp_path / 'teacher.py'
    reordered = (classes[1], classes[0]) + classes[2:]
    teacher.write_text(
        "_base_ = '{}/configs/retinanet/retinanet_r34_mini.py'\n"
        'train_dataloader = dict(dataset=dict(metainfo=dict(classes={!r})))\n'.format(
            detkd.__file__.rsplit('/projects/', 1)[0], reordered))
    pair = tmp_path / 'pair.py'
    pair.write_text("_base_ = '{}/configs/fgd/fgd_retina_r34_r18_mini.py'\n"
                    "model = dict(teacher='{}')\n".format(
                        detkd.__file__.rsplit('/projects/', 1)[0], teacher))
    with pytest.warns(UserWarning) as record:
        load_config(str(pair))
    msg = ' '.join(str(w.message) for w in record)
    assert "the same classes in another order: #0 is 'person' for the student, 'cat' for " \
        'the teacher' in msg
    assert 'feature-level ones (FGD, CWD on the neck) do not' in msg
