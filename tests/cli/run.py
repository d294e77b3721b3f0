"""CLI tests: python3 tests/cli/run.py [NAME-SUBSTRING...]"""
import os, sys
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, '..', 'boot'))
import harness  # noqa: E402
harness.TESTS.clear()
import test_cli  # noqa: E402,F401
import test_cli_boot  # noqa: E402,F401
import test_edit  # noqa: E402,F401

passed, failed = harness.run_tests(harness.TESTS, sys.argv[1:])
print('cli: %d passed, %d failed' % (passed, failed))
sys.exit(1 if failed or not passed else 0)
