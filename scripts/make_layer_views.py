#!/usr/bin/env python3
"""Makes the include views that enforce podvs's layers (run by meson at configure time).

usage: make_layer_views.py BUILD_DIR SOURCE_DIR LAYER=folder,folder,... ...

For each layer it makes BUILD_DIR/layers/LAYER/ holding one symbolic link per folder the layer
may include from (its own and those of the layers below it), at the folder's path in the source
tree. A library compiled with only its view on the include path cannot include a header of a
layer above it: the compiler does not find the file. The views are remade at every configure,
so a changed layer table in meson.build takes effect at once.
"""
import os
import shutil
import sys


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    build, source = argv[1], argv[2]
    top = os.path.join(build, 'layers')
    shutil.rmtree(top, ignore_errors=True)
    for spec in argv[3:]:
        layer, _, folders = spec.partition('=')
        for folder in folders.split(','):
            if not os.path.isdir(os.path.join(source, folder)):
                sys.exit(f'make_layer_views.py: layer {layer} names folder {folder}, which does not exist')
            link = os.path.join(top, layer, folder)
            os.makedirs(os.path.dirname(link), exist_ok=True)
            os.symlink(os.path.join(os.path.abspath(source), folder), link)


if __name__ == '__main__':
    main(sys.argv)
