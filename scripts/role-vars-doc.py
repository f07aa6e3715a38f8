"""Write (or, with --check, verify) README.md's variables reference from the roles' argument_specs.

The reference sits between the markers below; argument_specs is the one source of truth.
"""
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
BEGIN, END = "<!-- BEGIN role variables (scripts/role-vars-doc.py) -->", "<!-- END role variables -->"


def cell(text):
    return " ".join(str(text).split()).replace("|", "\\|")


def describe(option):
    text = option.get("description", "")
    text = " ".join(text) if isinstance(text, list) else text
    return cell(re.sub(r"\b[CVO]\(([^)]*)\)", r"`\1`", text))  # ansible-doc markup as Markdown code


def default(option):
    if option.get("required"):
        return "**required**"
    value = option.get("default")
    return f"`{cell(yaml.safe_dump(value, default_flow_style=True).strip().removesuffix('...').strip())}`"


def reference():
    lines = []
    for role in ("pki", "server"):
        with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
            specs = yaml.safe_load(handle)["argument_specs"]
        for entry, spec in specs.items():
            lines += ["", f"### `mtls.nginx.{role}` ({entry})", "", cell(spec["short_description"]), "",
                      "| variable | type | default | description |", "| --- | --- | --- | --- |"]
            for name, option in sorted(spec["options"].items()):
                kind = option["type"] + (f" of {option['elements']}" if "elements" in option else "")
                choices = f" One of: {', '.join(f'`{c}`' for c in option['choices'])}." if "choices" in option else ""
                lines.append(f"| `{name}` | {kind} | {default(option)} | {describe(option)}{choices} |")
                for sub, suboption in sorted(option.get("options", {}).items()):
                    subchoices = f" One of: {', '.join(f'`{c}`' for c in suboption['choices'])}." if "choices" in suboption else ""
                    lines.append(f"| `{name}.{sub}` | {suboption['type']} | {default(suboption)} | {describe(suboption)}{subchoices} |")
    return "\n".join(lines) + "\n"


def main():
    with open(README, encoding="utf-8") as handle:
        text = handle.read()
    head, rest = text.split(BEGIN, 1)
    _old, tail = rest.split(END, 1)
    new = f"{head}{BEGIN}\n{reference()}{END}{tail}"
    if "--check" in sys.argv:
        if new != text:
            sys.exit("README.md's variables reference differs from argument_specs: run python scripts/role-vars-doc.py")
        print("README.md's variables reference matches argument_specs")
        return
    with open(README, "w", encoding="utf-8") as handle:
        handle.write(new)


if __name__ == "__main__":
    main()
