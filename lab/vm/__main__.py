"""python -m lab.vm build|start|stop|status|inventory|ssh [command] [--name NAME]"""

import argparse
import json
import os
import sys

from lab.vm import image, machine


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m lab.vm", description=__doc__)
    parser.add_argument("action", choices=("build", "start", "stop", "status", "inventory", "ssh"))
    parser.add_argument("command", nargs=argparse.REMAINDER, help="for ssh: the command to run in the VM")
    parser.add_argument("--name", default=os.environ.get("CALICO_EGRESS_VM_NAME", "default"))
    args = parser.parse_args(argv)
    vm = machine.Machine(args.name)
    try:
        if args.action == "build":
            print(image.ensure_image())
        elif args.action == "start":
            print(json.dumps(vm.start(), indent=1))
            print("inventory: %s" % vm.inventory)
        elif args.action == "stop":
            vm.stop()
        elif args.action == "status":
            status = vm.status()
            print(json.dumps(status, indent=1))
            return 0 if status["running"] else 3
        elif args.action == "inventory":
            if not vm.running():
                print("vm %s is not running" % args.name, file=sys.stderr)
                return 3
            print(vm.inventory)
        elif args.action == "ssh":
            os.execvp("ssh", vm.ssh_argv(" ".join(args.command) or "bash -l"))
    except image.VMError as exc:
        print("lab.vm: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
