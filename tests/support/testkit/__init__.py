"""testkit: the one Python test harness of this repository.

Process start-up, the local endpoints and the Runtime API emulator, written once and used by
the end-to-end tier (tests/e2e), the state machine tier (tests/sam) and the benchmark (bench/):

- ``paths``        where the repository, .venv and the release bootstraps are (``BOOTSTRAP_DIR``);
- ``package``      ``zipped_size()``: a deployment package's size as uploaded;
- ``elf``          a bootstrap's machine, the argv that runs it here (qemu for arm64), what it
                   needs of Lambda's OS (``requirements()``: loader, libraries, glibc versions);
- ``processes``    ``Process``: a child in its own process group with a log file, always
                   stopped (context managers, atexit, SIGTERM); free ports; a clean env;
- ``local_eks``    ``local_eks()`` starts tests/localeks (its one start-up protocol: a
                   ``LISTENING <url>`` line) and gives ``LocalEks``, its admin client (other
                   accounts: ``seed_account``, ``client_as``, ``call_counts()`` -> ``CallCounts``);
- ``runtime_api``  the Lambda Runtime API emulator: real deadlines and precise timestamps,
                   ``RuntimeApi`` (asyncio) and ``ThreadedRuntimeApi`` (synchronous);
- ``function``     a release bootstrap behind `cargo lambda watch` (``lambda_function()``);
- ``runtime_proxy`` ``invoked_arn_proxy()``: between a function and `cargo lambda watch`, hands
                   invocations out with the function's real ARN (cargo lambda's names no
                   account, so the function could not tell its own);
- ``httpclient``, ``http1``  one HTTP request; the request-head parser of the servers here.

Nothing here imports pytest. pytest finds the package through ``pythonpath`` in
pyproject.toml; scripts (bench/run.py, tests/e2e/demo.py) through ``PYTHONPATH=tests/support``,
which the Makefile sets.
"""

from .elf import Requirements, glibc_version, machine, requirements, run_argv
from .function import (
    FUNCTION_SECRET,
    Emulator,
    FunctionProcess,
    Invocation,
    Lambda,
    function_process,
    is_summary,
    lambda_function,
    runtime_emulator,
)
from .httpclient import http
from .local_eks import (
    AWS_ENV,
    DEFAULT_ACCOUNT_ID,
    LISTENING_LINE,
    REGION,
    TARGET_ROLE_NAME,
    CallCounts,
    LocalEks,
    local_eks,
    role_arn,
)
from .package import zipped_size
from .paths import (
    BINARIES,
    BOOTSTRAP,
    BOOTSTRAP_DIR,
    EVENTS_DIR,
    FIXTURES_DIR,
    LOCALEKS_DIR,
    PLANNER_BOOTSTRAP,
    ROOT,
    bootstrap_newer_sources,
)
from .processes import (
    HarnessError,
    Process,
    base_env,
    free_port,
    install_sigterm_handler,
    live,
    stop_all,
    venv_python,
)
from .runtime_api import Result, RuntimeApi, ThreadedRuntimeApi
from .runtime_proxy import ArnProxy, invoked_arn_proxy

__all__ = [
    "AWS_ENV",
    "ArnProxy",
    "BINARIES",
    "BOOTSTRAP",
    "BOOTSTRAP_DIR",
    "DEFAULT_ACCOUNT_ID",
    "EVENTS_DIR",
    "FIXTURES_DIR",
    "FUNCTION_SECRET",
    "LISTENING_LINE",
    "LOCALEKS_DIR",
    "PLANNER_BOOTSTRAP",
    "REGION",
    "ROOT",
    "TARGET_ROLE_NAME",
    "CallCounts",
    "Emulator",
    "FunctionProcess",
    "HarnessError",
    "Invocation",
    "Lambda",
    "LocalEks",
    "Process",
    "Requirements",
    "Result",
    "RuntimeApi",
    "ThreadedRuntimeApi",
    "base_env",
    "bootstrap_newer_sources",
    "free_port",
    "function_process",
    "glibc_version",
    "http",
    "install_sigterm_handler",
    "invoked_arn_proxy",
    "is_summary",
    "lambda_function",
    "live",
    "local_eks",
    "machine",
    "requirements",
    "role_arn",
    "run_argv",
    "runtime_emulator",
    "stop_all",
    "venv_python",
    "zipped_size",
]
