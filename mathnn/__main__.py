import sys

from mathnn.cli import main

sys.exit(main())
