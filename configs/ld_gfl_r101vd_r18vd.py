# The seed's front door, kept working: the config is configs/ld/ld_gfl_r101vd_r18vd.py, in its
# method's folder with the method's README.md and metafile.yml.
_base_ = ['./ld/ld_gfl_r101vd_r18vd.py']
