"""The ResNet-vd fixture (``resnet_vd``): ResNet18/34/50-vd backbones alone, their four stages.
"""
from fixtures_common import (RESNET_OVERRIDES, check_pdparams_format, common_meta, model_spec, pw,
                             record_input, register, stats, to_np)

RESNET_CASE = (64, 96)


@register('resnet_vd')
def resnet_vd(args):
    """ResNet18/34/50-vd backbones alone (ResNet101-vd: the gfl_r101vd fixture). One spec
    with the keys prefixed ``r{depth}.``; each depth's own keys are that prefix stripped."""
    import paddle
    from ppdet.modeling.backbones.resnet import ResNet
    paddle.set_device('cpu')
    h, w = RESNET_CASE
    image = pw.synth_images(2, (h, w), seed=args.input_seed)
    a, spec, state, cfgs = {}, [], {}, {}
    record_input(a, 'c', image)
    first = None
    for depth in (18, 34, 50):
        kwargs = dict(
            depth=depth,
            variant='d',
            norm_type='bn',
            freeze_at=0,
            return_idx=[0, 1, 2, 3],
            num_stages=4)
        cfgs[depth] = kwargs
        model = ResNet(**kwargs)
        model.eval()
        sub = model_spec(model)
        sub_state = pw.synth_state(sub, seed=args.seed, overrides=RESNET_OVERRIDES)
        missing, unexpected = model.set_state_dict({
            k: paddle.to_tensor(v)
            for k, v in sub_state.items()
        })
        assert not missing and not unexpected
        first = first or check_pdparams_format(model, sub_state)
        spec += [(f'r{depth}.{k}', s, d) for k, s, d in sub]
        state.update({f'r{depth}.{k}': v for k, v in sub_state.items()})
        with paddle.no_grad():
            outs = model({'image': paddle.to_tensor(image)})
        for i, t in enumerate(outs):
            a[f'c.r{depth}.{i}'] = to_np(t)
    # the keys differ by prefix only: crc32 of the prefixed key seeds the arrays, so the
    # test must draw each depth's weights with its unprefixed keys (as here)
    meta = common_meta(
        'resnet_vd',
        '', 'ppdet.modeling.backbones.resnet.ResNet(variant=d), as '
        'configs/gfl/gfl_r18vd_1x_coco.yml etc. build it; return_idx [0, 1, 2, 3]',
        args,
        spec,
        state,
        RESNET_OVERRIDES,
        first,
        cases=dict(c=dict(H=h, W=w)),
        resnet_kwargs=cfgs,
        diagnostics=stats(a))
    return a, spec, meta
