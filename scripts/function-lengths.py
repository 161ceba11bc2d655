#!/usr/bin/env python3
"""Rough C++ function lengths, for the code-size figures of the closing notes: a body is a
"{" after ")" (and qualifiers) outside another function. Usage: scripts/function-lengths.py DIR... [--top N]"""
import re, sys, os
top = 15
args = sys.argv[1:]
if '--top' in args:
    i = args.index('--top'); top = int(args[i+1]); del args[i:i+2]
res = []
for d in args:
    for root, _, files in os.walk(d):
        for f in files:
            if not f.endswith(('.cpp', '.h')): continue
            p = os.path.join(root, f)
            src = open(p, encoding='utf-8', errors='replace').read()
            # strip comments and strings
            s = re.sub(r'//[^\n]*', '', src)
            s = re.sub(r'/\*.*?\*/', lambda m: '\n' * m.group(0).count('\n'), s, flags=re.S)
            s = re.sub(r'R"(\w*)\((.*?)\)\1"', lambda m: '""' + '\n' * m.group(0).count('\n'), s, flags=re.S)
            s = re.sub(r'"(\\.|[^"\\\n])*"', '""', s)
            s = re.sub(r"'(\\.|[^'\\\n])*'", "''", s)
            depth = 0; stack = []
            line = 1
            i = 0
            while i < len(s):
                c = s[i]
                if c == '\n': line += 1
                elif c == '{':
                    pre = s[max(0, i-300):i]
                    m = re.search(r'\)\s*(const|noexcept|override|final|mutable|->\s*[\w:<>,\s*&]+|\s)*\s*$', pre)
                    isfn = bool(m) and not re.search(r'\b(if|for|while|switch|catch)\s*\([^()]*(\([^()]*\)[^()]*)*\)\s*$', pre)
                    # name
                    name = ''
                    if isfn:
                        mm = re.search(r'([\w:~<>]+)\s*\([^{};]*\)[^{};()]*$', pre)
                        name = mm.group(1) if mm else '?'
                        if name in ('if','for','while','switch','catch','return') or name.endswith(']'): isfn = False
                    inside_fn = any(x[0] for x in stack)
                    stack.append((isfn and not inside_fn, line, name))
                elif c == '}':
                    if stack:
                        isfn, start, name = stack.pop()
                        if isfn: res.append((line - start + 1, p, start, name))
                i += 1
res.sort(reverse=True)
for n, p, start, name in res[:top]:
    print(f"{n:5d}  {p}:{start}  {name}")
