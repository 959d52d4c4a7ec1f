"""Where the shared mail corpus is: real-world email nobody here wrote, which the ingest must survive.

It lives beside the repository (`../shared/mail-corpus`) in the team's checkout. A clone elsewhere (a
scratch CI run in /tmp) points at it with HELPDESK_TEST_MAIL_CORPUS. The tests that need it skip without
it, with a reason naming the corpus, and `.ci/run` fails the run when they do.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ENV = "HELPDESK_TEST_MAIL_CORPUS"
_BESIDE_REPO = Path(__file__).resolve().parents[2].parent / "shared" / "mail-corpus"

CORPUS = Path(os.environ[ENV]) if os.environ.get(ENV) else _BESIDE_REPO

needs_corpus = pytest.mark.skipif(
    not (CORPUS / "CATALOG.tsv").is_file(),
    reason=f"the mail-corpus is missing ({CORPUS}); set {ENV} to its folder",
)
