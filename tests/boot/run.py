"""Runs the boot tests: python3 -m tests.boot.run [NAME-SUBSTRING...]"""
import sys
from tests import harness
from tests.boot import test_uml  # noqa: F401  (registers tests)
from tests.boot import test_hygiene  # noqa: F401
from tests.boot import test_stub  # noqa: F401

passed, failed = harness.run_tests(harness.TESTS, sys.argv[1:])
print('boot: %d passed, %d failed' % (passed, failed))
sys.exit(1 if failed or not passed else 0)
