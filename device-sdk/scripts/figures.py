#!/usr/bin/env python3
"""Flash, RAM, stack and instruction figures of the device SDK on the
Cortex-M4 (device-sdk/README.md records them). Run by figures.sh after the
firmware is built; prints a Markdown report.

Usage: figures.py OUT_DIR SPEC_COMMANDS_TOOL [--cost-file FILE]

--cost-file writes the per-operation instruction counts as a crypto cost
file (docs/energy.md, "Crypto cost files", format version 1) that
`armored energy --crypto-costs FILE` reads."""
import json
import os
import re
import subprocess
import sys
import tempfile

out_dir, spec_tool = sys.argv[1], sys.argv[2]
cost_file = None
if len(sys.argv) == 5 and sys.argv[3] == "--cost-file":
    cost_file = sys.argv[4]
elif len(sys.argv) != 3:
    sys.exit(__doc__)


def linked_sizes(map_path):
    """Per group, (flash, ram) bytes of the input sections the linker kept."""
    groups = {}
    section = None
    kept = False
    line_re = re.compile(r"^ (\.\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)$")
    with open(map_path) as f:
        for line in f:
            if line.startswith("Linker script and memory map"):
                kept = True
                continue
            if not kept:
                continue
            m = re.match(r"^ (\.\S+)$", line.rstrip("\n"))
            if m:
                section = m.group(1)
                continue
            m = line_re.match(line.rstrip("\n"))
            if not m:
                continue
            name = m.group(1) or section
            size = int(m.group(3), 16)
            path = m.group(4)
            section = None
            if size == 0 or name is None:
                continue
            if "libarmored_device.a" in path:
                g = "E3 core (libarmored_device: e3.c, ingress.c, reading.c)"
            elif path.endswith("crypto_psa.o"):
                g = "PSA backend (crypto_psa.c)"
            elif "libmbedcrypto.a" in path:
                g = "Mbed TLS 2.28 (PSA, ECP, bignum, SHA-256, AES, GCM, CCM, ChaCha20-Poly1305)"
            elif "arm-none-eabi" in path:
                g = "C library and libgcc (memcpy, memset, ...)"
            else:
                g = "firmware (" + os.path.basename(path) + ")"
            flash = size if name.startswith((".text", ".rodata", ".data")) else 0
            ram = size if name.startswith((".data", ".bss", "COMMON")) else 0
            if name.startswith((".stack", ".vectors", ".ARM")):
                flash, ram = (size, 0) if name != ".stack" else (0, 0)
            fl, rm = groups.get(g, (0, 0))
            groups[g] = (fl + flash, rm + ram)
    return groups


def object_sizes(paths):
    out = subprocess.run(["arm-none-eabi-size"] + paths, capture_output=True, text=True, check=True).stdout
    rows = [l.split() for l in out.strip().splitlines()[1:]]
    return sum(int(r[0]) for r in rows), sum(int(r[1]) + int(r[2]) for r in rows)


def bench():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([spec_tool, "--out", os.path.join(tmp, "cmds.bin"), "--count", "32"], check=True)
        r = subprocess.run(
            ["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none", "-serial", "none",
             "-icount", "shift=0", "-semihosting-config", "enable=on,target=native,arg=fw,arg=bench",
             "-kernel", os.path.join(out_dir, "fw_test.elf")],
            cwd=tmp, capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            sys.exit("bench firmware failed:\n" + r.stdout + r.stderr)
        vals = {}
        for line in (r.stdout + r.stderr).splitlines():
            parts = line.rsplit(" ", 1)
            if len(parts) == 2 and parts[1].isdigit():
                vals[parts[0]] = int(parts[1])
        return vals


core_flash, core_ram = object_sizes([os.path.join(out_dir, "sdk", n) for n in ("e3.o", "ingress.o", "reading.o")])
psa_flash, psa_ram = object_sizes([os.path.join(out_dir, "sdk", "crypto_psa.o")])
groups = linked_sizes(os.path.join(out_dir, "fw_min.elf.map"))
b = bench()

print("## Cortex-M4 figures (arm-none-eabi-gcc -Os, Thumb-2; QEMU mps2-an386)\n")
print("### Flash and RAM\n")
print("| part | flash (text+rodata+data) | static RAM (data+bss) |")
print("| --- | ---: | ---: |")
print(f"| E3 core, whole library (all functions) | {core_flash} | {core_ram} |")
print(f"| PSA backend, whole | {psa_flash} | {psa_ram} |")
total_flash = total_ram = 0
for g in sorted(groups):
    fl, rm = groups[g]
    total_flash += fl
    total_ram += rm
    print(f"| fw_min: {g} | {fl} | {rm} |")
print(f"| **fw_min, whole seal-and-send firmware** | **{total_flash}** | **{total_ram}** + stack (peak {b['stack_start_epoch']}) |")
gcm = linked_sizes(os.path.join(out_dir, "gcm-only", "fw_min.elf.map"))
gcm_mbed = sum(fl for g, (fl, rm) in gcm.items() if g.startswith("Mbed TLS"))
print(f"| fw_min with AES-GCM as Mbed TLS's only AEAD (`target/gcm-only`): whole | {sum(fl for fl, rm in gcm.values())} "
      f"(Mbed TLS {gcm_mbed}) | {sum(rm for fl, rm in gcm.values())} |")
print()
print("fw_min's own RAM is the caller's: context, PSA backend, state page and the 2048-byte Mbed TLS arena.\n")
print(f"Per context: `armored_ctx` {b['sizeof_armored_ctx']} bytes, `armored_psa_backend` {b['sizeof_psa_backend']} bytes; "
      f"the E3 core has no static RAM. Mbed TLS arena peak (PSA key slots): {b['mbedtls_arena_peak']} bytes.\n")
print("### Instructions and stack per operation (QEMU -icount shift=0, "
      f"{b['calibration_insn_per_1000_ticks'] / 1000:.0f} instructions per SysTick tick)\n")
print("| operation | instructions, E3 + Mbed TLS | peak stack | instructions, E3 alone | E3 stack alone |")
print("| --- | ---: | ---: | ---: | ---: |")
print(f"| start epoch (ECDH keygen + ECDH + HKDF + ECDSA sign + state) | {b['insn_start_epoch']:,} | {b['stack_start_epoch']} | {b['e3only_insn_start_epoch']:,} | {b['e3only_stack_start_epoch']} |")
print(f"| re-announce (ECDSA sign) | {b['insn_reannounce']:,} | {b['stack_reannounce']} | | |")
for name in ("A128GCM", "A256GCM", "AES-CCM-16-64-128", "ChaCha20-Poly1305"):
    alone = f"{b['e3only_insn_seal']:,}" if name == "A128GCM" else ""
    alone_stack = str(b["e3only_stack_seal"]) if name == "A128GCM" else ""
    print(f"| seal 52-byte reading, {name} | {b[name + ' insn_seal']:,} | {b[name + ' stack_seal']} | {alone} | {alone_stack} |")
print(f"| open command (A128GCM, 64-byte plaintext, window stored) | {b['insn_open_command']:,} | {b['stack_open_command']} | {b['e3only_insn_open_command']:,} | {b['e3only_stack_open_command']} |")


def tool_version(argv):
    out = subprocess.run(argv, capture_output=True, text=True).stdout.splitlines()
    return out[0].strip() if out else "?"


def mbedtls_version():
    m = re.search(r"mbedtls-(2\.28\.\d+)", " ".join(os.listdir(os.path.join(out_dir, "..", "mbedtls-src")))
                  if os.path.isdir(os.path.join(out_dir, "..", "mbedtls-src")) else "")
    return m.group(1) if m else "2.28"


if cost_file:
    # Format version 1: every field required; armored energy rejects unknown ones.
    costs = {
        "format": "armored-crypto-costs",
        "version": 1,
        "target": "cortex-m4",
        "measured_with": (f"QEMU mps2-an386 -icount shift=0 ({tool_version(['qemu-system-arm', '--version'])}); "
                          f"{tool_version(['arm-none-eabi-gcc', '--version'])} -Os Thumb-2; "
                          f"Mbed TLS {mbedtls_version()} PSA in software"),
        "reading_bytes": 52,
        "command_plaintext_bytes": 64,
        "instructions": {
            "seal": {
                "aes-128-gcm": b["A128GCM insn_seal"],
                "aes-256-gcm": b["A256GCM insn_seal"],
                "chacha20-poly1305": b["ChaCha20-Poly1305 insn_seal"],
                "aes-ccm-16-64-128": b["AES-CCM-16-64-128 insn_seal"],
            },
            "start_epoch": b["insn_start_epoch"],
            "reannounce": b["insn_reannounce"],
            "open_command": b["insn_open_command"],
        },
    }
    with open(cost_file, "w") as f:
        json.dump(costs, f, indent=2)
        f.write("\n")
    print(f"\nCrypto cost file written to {cost_file} (armored energy --crypto-costs {cost_file}).")
