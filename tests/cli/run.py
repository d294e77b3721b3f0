"""CLI tests: python3 -m tests.cli.run [NAME-SUBSTRING...]"""
import sys
from tests import harness
harness.TESTS.clear()
from tests.cli import test_cli  # noqa: E402,F401
from tests.cli import test_cli_boot  # noqa: E402,F401
from tests.cli import test_edit  # noqa: E402,F401
from tests.cli import test_golden  # noqa: E402,F401
from tests.cli import test_hardening  # noqa: E402,F401
from tests.cli import test_install  # noqa: E402,F401
from tests.cli import test_features  # noqa: E402,F401
from tests.cli import test_network  # noqa: E402,F401
from tests.cli import test_kernels  # noqa: E402,F401
from tests.cli import test_loaders  # noqa: E402,F401
from tests.cli import test_package  # noqa: E402,F401
from tests.cli import test_json  # noqa: E402,F401
from tests.cli import test_debian  # noqa: E402,F401
from tests.cli import test_seal  # noqa: E402,F401

passed, failed = harness.run_tests(harness.TESTS, sys.argv[1:])
print('cli: %d passed, %d failed' % (passed, failed))
sys.exit(1 if failed or not passed else 0)
