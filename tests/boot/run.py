"""Runs the boot tests: python3 tests/boot/run.py [NAME-SUBSTRING...]"""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness
import test_uml  # noqa: F401  (registers tests)

passed, failed = harness.run_tests(harness.TESTS, sys.argv[1:])
print('boot: %d passed, %d failed' % (passed, failed))
sys.exit(1 if failed or not passed else 0)
