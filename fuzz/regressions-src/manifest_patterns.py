# Generates tests/data/fuzz/template_inputs-pattern-compile.bin (docs/fuzzing.md, T1): a
# template_inputs input (byte 0, then a template.toml) whose N text fields each carry PATTERN,
# one that compiles to just under the old 1 MB limit, so parsing the manifest compiled N large
# regexes, each twice. Usage: manifest_patterns.py OUT N [PATTERN] (default \w{20}).
import sys

out, n = sys.argv[1], int(sys.argv[2])
pattern = sys.argv[3] if len(sys.argv) > 3 else r"\w{20}"
parts = ['[template]\nid = "t"\ntitle = "t"\ndepartment = "d"\nversion = "1"\ntime_limit_days = 1\n']
for i in range(n):
    parts.append(f"[[field]]\nname = \"f{i}\"\nlabel = \"l\"\nkind = \"text\"\n"
                 f"box = [0, 0, 10, 10]\npattern = '{pattern}'\n")
parts.append('[[field]]\nname = "s"\nlabel = "s"\nkind = "seal"\nbox = [0, 0, 10, 10]\n')
open(out, "wb").write(b"\x00" + "".join(parts).encode())
