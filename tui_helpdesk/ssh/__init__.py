"""The SSH face (`helpdesk serve --ssh`): agents log in with their own key (and TOTP) and get the app, or
run a CLI command, as themselves. Protocol only: every rule is services/ssh_access.py's.

hostkey.py   the server's host key, made on first start in the data dir
children.py  the app or the CLI in a child process (a PTY for the app), as the agent
server.py    asyncssh's server and session callbacks, calling the gate
runner.py    start and stop the server in a thread of its own (beside the HTTP API and the worker)
"""
