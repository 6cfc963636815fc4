"""The statistics of a report: gains over seeds, the balance read from a run's log, and the
teacher's margin over the student alone.

Gain: each seed's distilled run minus the same seed's student alone (the same schedule, data
order and initialisation seed), as mean and sample standard deviation over the seeds;
gain / SE: the mean over its standard error (sd / sqrt(n)), above 2 a gain more than twice
its standard error.

The teacher's margin, and when a method that imitates the teacher's predictions is warned
about it: with the student alone at S_1..S_n (mean S, sample sd s) and the teacher's one run
at T, the margin is T - S. Taken as one more run of the same spread (the teacher's own seed
spread is not measured), T - S has a standard deviation of s * sqrt(1 + 1/n), so the teacher
is *ahead* when T - S > 2 s sqrt(1 + 1/n) (two standard deviations of the margin; 2.3 s at
three seeds). Below it, a method that reads the teacher's predictions (``teacher_forward=
'head'``: LD, CrossKD, BCKD, the YOLOv3 and PP-YOLOE+ logit terms, CWD on logits, and any new
one of that kind) has nothing shown to imitate: the report warns, with the figures. With one
seed there is no spread: the margin is shown and only a teacher at or below the student is
warned about.
"""
import statistics
from typing import List, Optional

from ..utils import read_balance


def mean_std(values: List[float]) -> str:
    if not values:
        return ''
    if len(values) == 1:
        return f'{values[0]:+.1f}'
    return f'{statistics.mean(values):+.1f} ± {statistics.stdev(values):.1f}'


def gain_over_se(values: List[float]) -> str:
    """The mean gain in standard errors of the mean (sample std / sqrt(n)): above 2, the gain
    is more than twice its standard error."""
    value = gain_over_se_value(values)
    return '' if value is None else f'{value:+.1f}'


def gain_over_se_value(values: List[float]) -> Optional[float]:
    if len(values) < 2:
        return None
    se = statistics.stdev(values) / len(values)**0.5
    return statistics.mean(values) / se if se > 0 else None


def pct(values: List[Optional[float]]) -> str:
    values = [v for v in values if v is not None]
    return f'{100 * statistics.mean(values):.0f}%' if values else ''


def run_balance(work_dir: str) -> dict:
    """A run's balance, averaged over the hook's probes: ``distill`` (the distillation terms'
    share of the gradient on the student), per group, per term, ``cos`` and ``clipped``."""
    probes = read_balance(work_dir)
    mean = {k: statistics.mean(v) for k, v in probes.items() if v}
    return {
        'distill': mean.get('balance/distill_share/all'),
        'clipped': mean.get('balance/clip_frac'),
        'cos': mean.get('balance/cos'),
        'groups': {
            k.split('/')[-1]: v
            for k, v in mean.items()
            if k.startswith('balance/distill_share/') and not k.endswith('/all')
        },
        'terms': {
            k[len('balance/grad_share/'):]: v
            for k, v in mean.items() if k.startswith('balance/grad_share/')
        }
    }


def margin_threshold(students: List[float]) -> Optional[float]:
    """The margin above which the teacher counts as ahead of the student alone (see the module
    docstring); None with fewer than two student runs."""
    if len(students) < 2:
        return None
    return 2 * statistics.stdev(students) * (1 + 1 / len(students))**0.5


def teacher_margin(teacher_map: Optional[float], students: List[float]) -> Optional[dict]:
    """The teacher's margin over the student alone (mAP x100): ``margin``, the student's mean,
    sd and seeds, the ``threshold`` and whether the teacher is ``ahead`` (None: one seed, not
    judged unless the margin is not positive)."""
    if teacher_map is None or not students:
        return None
    mean = statistics.mean(students)
    margin = teacher_map - mean
    thr = margin_threshold(students)
    ahead = (margin > thr) if thr is not None else (False if margin <= 0 else None)
    return dict(
        teacher=teacher_map,
        student=mean,
        student_sd=statistics.stdev(students) if len(students) > 1 else None,
        seeds=len(students),
        margin=margin,
        threshold=thr,
        ahead=ahead)
