"""Regenerate every table of measured figures in README.md, docs/ and configs/*/README.md, and
the metafiles' Results blocks, from the report's results files in docs/results/.

    python tools/docs/tables.py --write     # after adding a report's results.json there
    python tools/docs/tables.py --check     # exit 1 if a table differs (the tests run it)

How the source is laid out and which tables exist: detkd/report/docs.py.
"""
import argparse
import os.path as osp
import sys

from detkd.report.docs import regenerate

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument('--write', action='store_true', help='rewrite the tables and Results')
    mode.add_argument('--check', action='store_true', help='exit 1 when one differs')
    p.add_argument('--root', default=ROOT, help='the repository (default: this one)')
    args = p.parse_args(argv)
    changed = regenerate(args.root, write=args.write)
    if args.check and changed:
        sys.exit(f'{len(changed)} file(s) differ from docs/results: run '
                 'python tools/docs/tables.py --write')


if __name__ == '__main__':
    main()
