# The seed's front door, kept working: the config is configs/fgd/fgd_retina_r101_r50.py, in its
# method's folder with the method's README.md and metafile.yml.
_base_ = ['./fgd/fgd_retina_r101_r50.py']
