"""The live-server tests fail on a traceback in the server's log, but not on gunicorn's own
SystemExit at the quick stop they send."""

from tests.concurrency.conftest import logged_errors

QUIT = """[INFO] Handling signal: int
[ERROR] Error handling request POST /csp-reports/embed/x
Traceback (most recent call last):
  File "gunicorn/workers/sync.py", line 191, in handle_request
    resp.close()
  File "gunicorn/util.py", line 348, in write
    sock.sendall(data)
  File "gunicorn/workers/base.py", line 195, in handle_quit
    sys.exit(0)
SystemExit: 0
[INFO] Worker exiting (pid: 1)"""


def test_the_stops_own_systemexit_is_not_an_error():
    assert logged_errors(QUIT) == []


def test_any_other_traceback_is_reported_whole():
    log = QUIT.replace("SystemExit: 0", "ValueError: bad")
    [error] = logged_errors(log)
    assert error.startswith("Traceback") and error.endswith("ValueError: bad")
    assert "in handle_quit" in error


def test_a_systemexit_elsewhere_and_a_deadlock_are_errors():
    elsewhere = QUIT.replace("in handle_quit", "in view")
    assert len(logged_errors(elsewhere)) == 1
    assert logged_errors("ok\nERROR:  deadlock detected\nok") == ["ERROR:  deadlock detected"]
