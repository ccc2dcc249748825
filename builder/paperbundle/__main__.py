import sys

from paperbundle.cli import main

sys.exit(main(sys.argv[1:]))
