import sys

from paperbundle.cli import run

sys.exit(run(sys.argv[1:]))
