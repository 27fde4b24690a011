"""The OVH API emulator of the lab: `/1.0/auth/time` and the `/1.0/email/exchange` send-connector subset.

    from verifier.lab.api.server import ApiEmulator
    emu = ApiEmulator(state_dir, port=0, task_delay=0.2, route_hook=my_hook).start_in_thread()
    env = emu.environment()          # OVH_ENDPOINT, OVH_APPLICATION_KEY, ...
    ...
    emu.stop_thread()

or, in a running event loop, ``await emu.start()`` / ``await emu.stop()``.
"""

from verifier.lab.api.server import ApiEmulator, DemoCredentials
from verifier.lab.api.state import default_state_dir

__all__ = ["ApiEmulator", "DemoCredentials", "default_state_dir"]
