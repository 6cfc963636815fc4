# The seed's front door, kept working: the config is configs/yolov3_kd/yolov3_r34_mv1_distill.py,
# in its method's folder with the method's README.md and metafile.yml.
_base_ = ['./yolov3_kd/yolov3_r34_mv1_distill.py']
