"""The package's build: everything is in pyproject.toml, except what OpenMMLab packages add to
a wheel, ``<package>/.mim/{configs,tools,model-index.yml}`` (as mmdet's
``add_mim_extension``), so that an installed detkd resolves ``detkd::`` config references
and runs its tools anywhere:

    DETKD=$(python -c 'import detkd, os; print(os.path.dirname(detkd.__file__))')
    python "$DETKD"/.mim/tools/train.py detkd::fgd/fgd_retina_r34_r18_mini.py

In the source tree ``projects/detkd/.mim/`` holds links to the repository's folders; a wheel
gets copies of them.
"""
import os
import os.path as osp
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

MIM_PATHS = ('configs', 'tools', 'model-index.yml')


class BuildWithMim(build_py):

    def run(self):
        super().run()
        here = osp.dirname(osp.abspath(__file__))
        for name in MIM_PATHS:
            source = osp.join(here, name)
            target = osp.join(self.build_lib, 'detkd', '.mim', name)
            if osp.islink(target) or osp.isfile(target):
                os.remove(target)
            elif osp.isdir(target):
                shutil.rmtree(target)
            os.makedirs(osp.dirname(target), exist_ok=True)
            if osp.isdir(source):
                shutil.copytree(
                    source, target, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
            else:
                shutil.copyfile(source, target)


setup(cmdclass={'build_py': BuildWithMim})
