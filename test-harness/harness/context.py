"""State shared by all cases of one harness run: the plugin under test (a private copy), its profile, the
fault-injection build and its stages, the CNI_PATH directory with real and fake IPAMs, the process registry,
and the namespace prefix of the run."""
import os
import shutil
import tempfile
import threading

from cnitest import netns
from cnitest.command import Fail
from cnitest.processes import Registry

from .cases import HERE

FAKE_IPAM_DIR = os.path.join(HERE, "ipam")
REAL_IPAMS = ("host-local", "static", "dhcp")


def private_copy(path, directory):
    """A copy under the same name: a rebuild during the run cannot change it under us (or fail exec with
    "Text file busy")."""
    os.makedirs(directory)
    dst = os.path.join(directory, os.path.basename(path))
    shutil.copy2(os.path.abspath(path), dst)
    return dst


class Run:
    def __init__(self, opts, profile):
        self.opts = opts
        self.profile = profile
        self.prefix = f"cnit{os.getpid() % 100000}{os.urandom(2).hex()}"
        self.tmp = tempfile.mkdtemp(prefix=self.prefix + "-")
        os.chmod(self.tmp, 0o755)
        self.plugin = private_copy(opts.plugin, os.path.join(self.tmp, "plugin"))
        self.fault_plugin = None     # the fault-injection build (prepare_fault)
        self.fault_error = None      # why it is not there
        self.stages = None           # ADD stages it listed
        self.cni_path = os.path.join(self.tmp, "cni-bin")
        os.mkdir(self.cni_path)
        for name in REAL_IPAMS:
            src = os.path.join(opts.ipam_dir, name)
            if os.path.exists(src):
                os.symlink(src, os.path.join(self.cni_path, name))
        for name in os.listdir(FAKE_IPAM_DIR):
            os.symlink(os.path.join(FAKE_IPAM_DIR, name), os.path.join(self.cni_path, name))
        # a regular file that is not executable, for the "IPAM not executable" case
        with open(os.path.join(self.cni_path, "not-executable"), "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(os.path.join(self.cni_path, "not-executable"), 0o644)
        self.registry = Registry()
        self.lock = threading.Lock()
        self.stopping = False
        self.counter = 0

    def prepare_fault(self):
        """Builds (or takes --fault-build) the fault-injection variant and asks it for its stages. A failure
        is kept: the cases that need the build fail with it."""
        try:
            path = self.opts.fault_build or self.profile.build_fault_binary()
            self.fault_plugin = private_copy(path, os.path.join(self.tmp, "fault"))
            self.stages = self.profile.stages(self.fault_plugin)
        except Fail as e:
            self.fault_error = str(e)

    def next_prefix(self):
        with self.lock:
            self.counter += 1
            return f"{self.prefix}-{self.counter}"

    def fake_ipam_markers(self):
        return (b"fake-ipam", FAKE_IPAM_DIR.encode(), self.cni_path.encode())

    def kill_all(self):
        self.registry.kill_all()

    def cleanup(self):
        self.kill_all()
        netns.delete_many(netns.with_prefix(self.prefix + "-"))
        shutil.rmtree(self.tmp, ignore_errors=True)
