"""`python -m lnet_anet.predict`, the documented command: the CLI itself is lnet_anet.cli.predict."""

import sys

from lnet_anet.cli.predict import main

if __name__ == "__main__":
    sys.exit(main())
