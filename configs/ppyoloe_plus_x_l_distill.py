# The seed's front door, kept working: the config is
# configs/ppyoloe_kd/ppyoloe_plus_x_l_distill.py, in its method's folder with the method's
# README.md and metafile.yml.
_base_ = ['./ppyoloe_kd/ppyoloe_plus_x_l_distill.py']
