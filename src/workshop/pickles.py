"""Read which classes and functions a pickle names, without loading it.

A pickle is not the object: it is a small program that rebuilds the object, and it refers
to classes and functions by name only ("sklearn.pipeline.Pipeline", "__main__.BillRule",
"builtins.print"). Loading imports each name and calls it. Listing the names without loading
shows both lessons of stage 02: the code itself is not in the file, and a file can name any
function at all. (skops' get_untrusted_types does the same for its own format.)
"""

from __future__ import annotations

import pickletools

_TEXT_PUSHES = frozenset(
    {
        "SHORT_BINUNICODE",
        "BINUNICODE",
        "BINUNICODE8",
        "UNICODE",
        "SHORT_BINSTRING",
        "BINSTRING",
        "STRING",
    }
)
_GETS = frozenset({"GET", "BINGET", "LONG_BINGET"})
_PUTS = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})
_NO_STACK_EFFECT = frozenset({"PROTO", "FRAME", "STOP"})


def referenced_names(data: bytes) -> list[str]:
    """`module.name` of every class or function the pickle would import, in order of first use.

    Follows the pickle's instructions (pickletools.genops) and tracks just enough of its stack
    and memo to resolve the module and name strings of each STACK_GLOBAL; nothing is executed.
    """
    names: list[str] = []
    top: list[str | None] = []  # what each instruction left on top of the stack, if text
    memo: dict[int, str | None] = {}
    for opcode, arg, _ in pickletools.genops(data):
        op = opcode.name
        if op in _TEXT_PUSHES:
            top.append(str(arg))
        elif op in _GETS:
            top.append(memo.get(int(str(arg))))
        elif op in _PUTS:
            memo[int(str(arg))] = top[-1] if top else None
        elif op == "MEMOIZE":
            memo[len(memo)] = top[-1] if top else None
        elif op == "STACK_GLOBAL":
            module, name = (top[-2], top[-1]) if len(top) >= 2 else (None, None)
            names.append(f"{module}.{name}")
            top.append(None)
        elif op in ("GLOBAL", "INST"):
            names.append(str(arg).replace(" ", "."))
            top.append(None)
        elif op == "POP" and top:
            top.pop()
        elif op not in _NO_STACK_EFFECT:
            top.append(None)
    return list(dict.fromkeys(names))
