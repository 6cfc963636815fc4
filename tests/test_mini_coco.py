"""Tests of the embedded mini COCO dataset: generator, ensure_mini_coco, tools, mmdet class."""
import hashlib
import importlib.util
import json
import multiprocessing
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from detkd.datasets import mini_coco
from detkd.datasets.mini_coco import CLASSES, ensure_mini_coco, generate_mini_coco

REPO = Path(__file__).resolve().parents[1]
SMALL = dict(num_train=40, num_val=10)


def digests(root: Path) -> dict:
    """sha256 of every file under root, keyed by its path relative to root."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob('*')) if p.is_file()
    }


def mtimes(root: Path) -> dict:
    """Modification time of everything under root, keyed by path."""
    return {p: p.stat().st_mtime_ns for p in root.rglob('*')}


def load_tool(name: str):
    """Import tools/dataset/<name>.py as a module."""
    spec = importlib.util.spec_from_file_location(name, REPO / 'tools' / 'dataset' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def small_dataset(tmp_path_factory):
    return generate_mini_coco(
        tmp_path_factory.mktemp('small') / 'mini_coco', progress=False, **SMALL)


@pytest.fixture(scope='module')
def full_dataset(tmp_path_factory):
    """The dataset with the default settings (600 train, 150 val images, seed 0)."""
    return generate_mini_coco(tmp_path_factory.mktemp('full') / 'mini_coco', progress=False)


def test_generation_is_deterministic(small_dataset, tmp_path):
    first = digests(Path(small_dataset['root']))
    again = generate_mini_coco(tmp_path / 'again', progress=False, **SMALL)
    assert again['splits'] == small_dataset['splits']
    assert digests(tmp_path / 'again') == first
    # 50 JPEGs, two annotation files and the marker.
    assert len(first) == 40 + 10 + 3


def test_seed_changes_the_data(small_dataset, tmp_path):
    other = generate_mini_coco(tmp_path / 'other', num_train=2, num_val=1, seed=1, progress=False)
    root = Path(small_dataset['root'])
    assert ((tmp_path / 'other' / 'train' / '000001.jpg').read_bytes()
            != (root / 'train' / '000001.jpg').read_bytes())
    assert other['params']['seed'] == 1


def test_pycocotools_loads_it(small_dataset):
    from pycocotools.coco import COCO
    root = Path(small_dataset['root'])
    for split, num in (('train', 40), ('val', 10)):
        coco = COCO(str(root / 'annotations' / f'instances_{split}.json'))
        cat_ids = coco.getCatIds()
        assert len(cat_ids) >= 6
        assert [c['name'] for c in coco.loadCats(cat_ids)] == list(CLASSES)
        assert cat_ids == list(range(1, len(CLASSES) + 1))
        assert len(coco.getImgIds()) == num
        assert len(coco.getAnnIds()) == small_dataset['splits'][split]['instances'] > 0


@pytest.mark.integration  # generates the whole dataset (the runs of the tools use it)
@pytest.mark.parametrize('split,num_images', [('train', 600), ('val', 150)])
def test_default_dataset(full_dataset, split, num_images):
    root = Path(full_dataset['root'])
    with open(root / 'annotations' / f'instances_{split}.json') as f:
        coco = json.load(f)
    images = {img['id']: img for img in coco['images']}
    assert len(images) == num_images
    assert len({(img['width'], img['height']) for img in images.values()}) > 10
    for img in images.values():
        assert 256 <= img['width'] <= 352 and 256 <= img['height'] <= 352
        with Image.open(root / split / img['file_name']) as im:
            assert im.size == (img['width'], img['height'])

    assert len({a['id'] for a in coco['annotations']}) == len(coco['annotations'])
    for ann in coco['annotations']:
        img = images[ann['image_id']]
        x, y, w, h = ann['bbox']
        assert x >= 0 and y >= 0 and w >= 2 and h >= 2
        assert x + w <= img['width'] and y + h <= img['height']
        assert ann['area'] == w * h and ann['iscrowd'] == 0
        assert 1 <= ann['category_id'] <= len(CLASSES)

    per_image = Counter(a['image_id'] for a in coco['annotations'])
    assert max(per_image.values()) <= 6
    empty = num_images - len(per_image)
    assert 0 < empty <= 0.06 * num_images
    areas = [a['area'] for a in coco['annotations']]
    assert sum(a < 32**2 for a in areas) > 0.2 * len(areas)
    assert sum(32**2 <= a < 96**2 for a in areas) > 0.2 * len(areas)
    assert sum(a >= 96**2 for a in areas) > 0.1 * len(areas)
    per_class = Counter(a['category_id'] for a in coco['annotations'])
    assert set(per_class) == set(range(1, len(CLASSES) + 1))
    assert min(per_class.values()) > 0.05 * len(areas)

    stats = full_dataset['splits'][split]
    assert (stats['images'], stats['instances'], stats['empty_images']) == (num_images, len(areas),
                                                                            empty)


def test_ensure_keeps_a_complete_dataset_and_regenerates_without_marker(tmp_path):
    root = tmp_path / 'mini_coco'
    info = ensure_mini_coco(root, num_train=6, num_val=2, progress=False)
    assert info['generated'] and (root / '.complete').is_file()
    before, files = mtimes(root), digests(root)

    # Parameters left out accept the dataset that is there.
    for kwargs in ({}, dict(num_train=6, num_val=2, seed=0)):
        again = ensure_mini_coco(root, progress=False, **kwargs)
        assert not again['generated']
        assert again['splits'] == info['splits']
    assert mtimes(root) == before

    (root / '.complete').unlink()
    again = ensure_mini_coco(root, num_train=6, num_val=2, progress=False)
    assert again['generated'] and (root / '.complete').is_file()
    assert digests(root) == files
    assert not list(tmp_path.glob('.mini_coco.tmp-*'))


def test_ensure_regenerates_on_other_parameters_files_or_version(tmp_path, monkeypatch):
    # Calls without sizes regenerate with the defaults: make those small for speed. They
    # are patched in mini_coco.generate, the module whose ensure_mini_coco reads them.
    monkeypatch.setattr(mini_coco.generate, 'DEFAULT_NUM_TRAIN', 5)
    monkeypatch.setattr(mini_coco.generate, 'DEFAULT_NUM_VAL', 2)
    root = tmp_path / 'mini_coco'
    ensure_mini_coco(root, num_train=6, num_val=2, progress=False)

    info = ensure_mini_coco(root, num_train=7, num_val=2, progress=False)
    assert info['generated'] and len(list((root / 'train').glob('*.jpg'))) == 7

    (root / 'train' / '000003.jpg').unlink()
    info = ensure_mini_coco(root, progress=False)
    assert info['generated'] and info['params'] == dict(num_train=5, num_val=2, seed=0)
    assert len(list((root / 'train').glob('*.jpg'))) == 5

    monkeypatch.setattr(mini_coco.generate, 'VERSION', 'mini_coco-test')
    info = ensure_mini_coco(root, progress=False)
    assert info['generated'] and info['version'] == 'mini_coco-test'
    assert not ensure_mini_coco(root, progress=False)['generated']


def test_ensure_refuses_to_replace_other_data(tmp_path):
    root = tmp_path / 'coco'
    (root / 'train2017').mkdir(parents=True)
    with pytest.raises(FileExistsError):
        ensure_mini_coco(root, num_train=2, num_val=1, progress=False)
    assert (root / 'train2017').is_dir()


def test_ensure_with_concurrent_callers(tmp_path):
    root = tmp_path / 'mini_coco'
    # fork: the children need no fresh imports, and flock locks are per open file, so
    # processes forked from one parent still exclude each other.
    with multiprocessing.get_context('fork').Pool(3) as pool:
        infos = pool.starmap(ensure_mini_coco, [(root, 6, 2, 0, False)] * 3)
    assert sum(info['generated'] for info in infos) == 1
    assert len({json.dumps(info['splits'], sort_keys=True) for info in infos}) == 1
    assert not list(tmp_path.glob('.mini_coco.tmp-*'))


def test_tools(small_dataset, tmp_path, capsys):
    make = load_tool('make_mini_coco')
    make.main(
        ['--out',
         str(tmp_path / 'cli'), '--num-train', '3', '--num-val', '1', '--no-progress'])
    out = capsys.readouterr().out
    assert 'generated' in out and 'empty images' in out and 'coin' in out
    make.main(['--out', str(tmp_path / 'cli'), '--num-train', '3', '--num-val', '1'])
    assert 'already complete' in capsys.readouterr().out

    browse = load_tool('browse_dataset')
    out_dir = tmp_path / 'browse'
    browse.main([
        '--root', small_dataset['root'], '--split', 'val', '--num', '4', '--out-dir',
        str(out_dir), '--grid', '--format', 'png'
    ])
    assert sorted(p.name for p in out_dir.iterdir()) == [
        '000001.png', '000002.png', '000003.png', '000004.png', 'grid.png'
    ]
    with Image.open(out_dir / 'grid.png') as grid:
        assert grid.size == (2 * 256, 2 * 256)


def test_mmdet_dataset_from_base_config(tmp_path, monkeypatch):
    pytest.importorskip('mmdet')
    from mmdet.registry import DATASETS
    from mmdet.utils import register_all_modules
    from mmengine.config import Config
    register_all_modules()
    # A fresh data_root: the dataset class must generate the data itself. Small default
    # sizes keep the test quick (patched in mini_coco.generate, where they are read).
    monkeypatch.setattr(mini_coco.generate, 'DEFAULT_NUM_TRAIN', 12)
    monkeypatch.setattr(mini_coco.generate, 'DEFAULT_NUM_VAL', 3)
    root = tmp_path / 'data' / 'mini_coco'
    cfg = Config.fromfile(str(REPO / 'configs' / '_base_' / 'datasets' / 'mini_coco.py'))
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.data_root = f'{root}/'
    resize = next(t for t in dataset_cfg.pipeline if t['type'] == 'Resize')
    dataset = DATASETS.build(dataset_cfg)

    assert type(dataset).__name__ == 'MiniCocoDataset'
    assert dataset.metainfo['classes'] == CLASSES
    assert len(dataset) == 12  # empty images are kept
    with open(root / 'annotations' / 'instances_train.json') as f:
        counts = Counter(a['image_id'] for a in json.load(f)['annotations'])
    assert 0 in [counts[i] for i in range(1, 13)]
    for idx in range(len(dataset)):
        sample = dataset[idx]
        data_sample = sample['data_samples']
        assert len(data_sample.gt_instances.bboxes) == counts[data_sample.img_id]
        assert max(sample['inputs'].shape[1:]) == max(resize['scale'])


def test_coco_metric_scores_ground_truth_as_perfect(small_dataset):
    """The val annotations go through mmdet's CocoMetric: GT as predictions gives AP 1."""
    pytest.importorskip('mmdet')
    import torch
    from mmdet.evaluation import CocoMetric
    ann_file = Path(small_dataset['root']) / 'annotations' / 'instances_val.json'
    with open(ann_file) as f:
        coco = json.load(f)
    metric = CocoMetric(ann_file=str(ann_file), metric='bbox', format_only=False)
    metric.dataset_meta = dict(classes=CLASSES)
    for img in coco['images']:
        anns = [a for a in coco['annotations'] if a['image_id'] == img['id']]
        boxes = torch.tensor([[x, y, x + w, y + h] for x, y, w, h in (a['bbox'] for a in anns)],
                             dtype=torch.float32).reshape(-1, 4)
        metric.process({}, [
            dict(
                img_id=img['id'],
                ori_shape=(img['height'], img['width']),
                pred_instances=dict(
                    bboxes=boxes,
                    scores=torch.ones(len(anns)),
                    labels=torch.tensor([a['category_id'] - 1 for a in anns])))
        ])
    results = metric.evaluate(len(coco['images']))
    assert results['coco/bbox_mAP'] == pytest.approx(1.0)
